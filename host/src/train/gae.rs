//! Generalised advantage estimation (Schulman et al. 2016) over one environment's
//! trajectory, keeping termination and truncation apart.

/// One environment's transitions in time order.
pub struct Trajectory<'a> {
    /// Rewards (after normalisation, if any).
    pub rewards: &'a [f64],
    /// Values of the states the actions were taken in.
    pub values: &'a [f64],
    /// The episode ended in a terminal state after this step.
    pub terminated: &'a [bool],
    /// The episode was cut off after this step.
    pub truncated: &'a [bool],
    /// For truncated steps: the value of the state the episode was cut off in (the
    /// bootstrap); ignored elsewhere.
    pub truncation_values: &'a [f64],
    /// The value of the state after the last step (the bootstrap at the horizon).
    pub last_value: f64,
}

/// Writes advantages and returns (advantages plus values).
///
/// After a terminal step the next value is zero. After a truncated step it is the value of the
/// state the episode was cut off in when `bootstrap_truncation` is set (zero otherwise, as in
/// AngoraPy); either way the advantage recursion restarts there, since the next stored step
/// belongs to a new episode.
pub fn advantages(
    t: &Trajectory<'_>,
    discount: f64,
    lambda: f64,
    bootstrap_truncation: bool,
    advantages: &mut [f64],
    returns: &mut [f64],
) {
    let n = t.rewards.len();
    let mut next_advantage = 0.0;
    for i in (0..n).rev() {
        let (next_value, continues) = if t.terminated[i] {
            (0.0, false)
        } else if t.truncated[i] {
            (
                if bootstrap_truncation {
                    t.truncation_values[i]
                } else {
                    0.0
                },
                false,
            )
        } else if i + 1 < n {
            (t.values[i + 1], true)
        } else {
            (t.last_value, false)
        };
        let delta = t.rewards[i] + discount * next_value - t.values[i];
        let advantage = delta
            + if continues {
                discount * lambda * next_advantage
            } else {
                0.0
            };
        advantages[i] = advantage;
        returns[i] = advantage + t.values[i];
        next_advantage = advantage;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition: a sum of discounted TD errors up to the episode's end.
    fn reference(
        rewards: &[f64],
        values: &[f64],
        next_values: &[f64],
        ends: &[bool],
        discount: f64,
        lambda: f64,
    ) -> Vec<f64> {
        (0..rewards.len())
            .map(|i| {
                let mut total = 0.0;
                let mut weight = 1.0;
                for j in i..rewards.len() {
                    let delta = rewards[j] + discount * next_values[j] - values[j];
                    total += weight * delta;
                    if ends[j] {
                        break;
                    }
                    weight *= discount * lambda;
                }
                total
            })
            .collect()
    }

    #[test]
    fn matches_the_definition_with_terminations_and_truncations() {
        let rewards = [1.0, 0.5, -1.0, 2.0, 0.0, 1.5];
        let values = [0.3, 0.2, 0.9, -0.4, 0.1, 0.7];
        let terminated = [false, true, false, false, false, false];
        let truncated = [false, false, false, true, false, false];
        let truncation_values = [0.0, 0.0, 0.0, 0.8, 0.0, 0.0];
        let last_value = -0.2;
        let t = Trajectory {
            rewards: &rewards,
            values: &values,
            terminated: &terminated,
            truncated: &truncated,
            truncation_values: &truncation_values,
            last_value,
        };
        let (mut adv, mut ret) = ([0.0; 6], [0.0; 6]);
        advantages(&t, 0.9, 0.8, true, &mut adv, &mut ret);
        let next_values = [0.2, 0.0, -0.4, 0.8, 0.7, -0.2];
        let ends = [false, true, false, true, false, true];
        let expected = reference(&rewards, &values, &next_values, &ends, 0.9, 0.8);
        for i in 0..6 {
            assert!(
                (adv[i] - expected[i]).abs() < 1e-12,
                "step {i}: {} vs {}",
                adv[i],
                expected[i]
            );
            assert!((ret[i] - adv[i] - values[i]).abs() < 1e-12);
        }
        // Without bootstrapping, a truncation counts as a terminal state.
        advantages(&t, 0.9, 0.8, false, &mut adv, &mut ret);
        assert!((adv[3] - (2.0 - (-0.4))).abs() < 1e-12);
    }
}
