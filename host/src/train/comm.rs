//! The communicator: how the processes of one training run talk to each other.
//!
//! A run is one process ([`Single`], the default build) or K processes started by `mpirun -n K`
//! ([`Mpi`], cargo feature `mpi`), each gathering with its own share of the environments. The
//! training loop needs four collective operations (paper Figure 6, design.md section 1): sum
//! float buffers over all processes (gradients, advantage statistics), broadcast the weights from
//! rank 0, gather variable-length byte messages from every process in rank order (normaliser
//! increments, finished episodes, environment states for checkpoints), and wait for everyone
//! (barrier). Every process calls them in the same order; a process that fails aborts all of
//! them ([`Communicator::abort`]) rather than leave the others waiting forever.

/// The collective operations a run uses. Every process must call each one, in the same order.
pub trait Communicator {
    /// This process's rank, in `0..size()`.
    fn rank(&self) -> usize;

    /// Number of processes.
    fn size(&self) -> usize;

    /// Replaces `values` by their element-wise sum over all processes.
    fn sum_f32(&self, values: &mut [f32]);

    /// Replaces `values` by their element-wise sum over all processes.
    fn sum_f64(&self, values: &mut [f64]);

    /// Copies rank 0's `values` to every process.
    fn broadcast_f32(&self, values: &mut [f32]);

    /// Every process's `message`, in rank order.
    fn gather_bytes(&self, message: &[u8]) -> Vec<Vec<u8>>;

    /// Waits until every process has arrived.
    fn barrier(&self);

    /// Ends every process of the run with `code`; used after a process has reported an error,
    /// so that the others do not wait for it forever. Returns only for a single process.
    fn abort(&self, code: i32);

    /// Whether this process writes the run directory and the progress output.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// A run of one process: every collective is the identity.
#[derive(Debug, Default, Clone, Copy)]
pub struct Single;

impl Communicator for Single {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn sum_f32(&self, _: &mut [f32]) {}

    fn sum_f64(&self, _: &mut [f64]) {}

    fn broadcast_f32(&self, _: &mut [f32]) {}

    fn gather_bytes(&self, message: &[u8]) -> Vec<Vec<u8>> {
        vec![message.to_vec()]
    }

    fn barrier(&self) {}

    fn abort(&self, _: i32) {}
}

/// The communicator of this process: MPI's world when the binary was built with the `mpi`
/// feature and MPI starts, else [`Single`].
pub fn world() -> Box<dyn Communicator> {
    #[cfg(feature = "mpi")]
    if let Some(mpi) = Mpi::initialize() {
        return Box::new(mpi);
    }
    Box::new(Single)
}

#[cfg(feature = "mpi")]
pub use self::mpi_world::Mpi;

#[cfg(feature = "mpi")]
mod mpi_world {
    use mpi::{
        Count,
        collective::SystemOperation,
        datatype::PartitionMut,
        environment::Universe,
        topology::SimpleCommunicator,
        traits::{Communicator as _, CommunicatorCollectives, Root},
    };

    use super::Communicator;

    /// MPI's world communicator (rsmpi over the system's MPI library). MPI is initialised once
    /// per process and finalised when this is dropped.
    pub struct Mpi {
        world: SimpleCommunicator,
        // Dropping the universe finalises MPI: it must outlive `world`.
        _universe: Universe,
    }

    impl Mpi {
        /// Initialises MPI; `None` if it was initialised before in this process.
        pub fn initialize() -> Option<Mpi> {
            let universe = mpi::initialize()?;
            let world = universe.world();
            Some(Mpi {
                world,
                _universe: universe,
            })
        }
    }

    impl Communicator for Mpi {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }

        fn size(&self) -> usize {
            self.world.size() as usize
        }

        fn sum_f32(&self, values: &mut [f32]) {
            if self.size() > 1 {
                let mine = values.to_vec();
                self.world
                    .all_reduce_into(&mine[..], values, SystemOperation::sum());
            }
        }

        fn sum_f64(&self, values: &mut [f64]) {
            if self.size() > 1 {
                let mine = values.to_vec();
                self.world
                    .all_reduce_into(&mine[..], values, SystemOperation::sum());
            }
        }

        fn broadcast_f32(&self, values: &mut [f32]) {
            self.world.process_at_rank(0).broadcast_into(values);
        }

        fn gather_bytes(&self, message: &[u8]) -> Vec<Vec<u8>> {
            let size = self.size();
            let mut counts = vec![0 as Count; size];
            let length = Count::try_from(message.len()).expect("a message under 2 GiB");
            self.world.all_gather_into(&length, &mut counts[..]);
            let displacements: Vec<Count> = counts
                .iter()
                .scan(0, |offset, &count| {
                    let at = *offset;
                    *offset += count;
                    Some(at)
                })
                .collect();
            let total = counts.iter().map(|&c| c as usize).sum();
            let mut all = vec![0u8; total];
            {
                let mut partition =
                    PartitionMut::new(&mut all[..], &counts[..], &displacements[..]);
                self.world.all_gather_varcount_into(message, &mut partition);
            }
            counts
                .iter()
                .zip(&displacements)
                .map(|(&count, &at)| all[at as usize..(at + count) as usize].to_vec())
                .collect()
        }

        fn barrier(&self) {
            self.world.barrier();
        }

        fn abort(&self, code: i32) {
            self.world.abort(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_process_is_rank_zero_of_one_and_changes_nothing() {
        let comm = Single;
        assert_eq!((comm.rank(), comm.size()), (0, 1));
        assert!(comm.is_root());
        let mut values = vec![1.0f32, -2.5];
        comm.sum_f32(&mut values);
        comm.broadcast_f32(&mut values);
        assert_eq!(values, vec![1.0, -2.5]);
        assert_eq!(comm.gather_bytes(b"abc"), vec![b"abc".to_vec()]);
    }
}
