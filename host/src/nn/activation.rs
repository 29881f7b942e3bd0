//! `tanh` and the logistic sigmoid as vectorised kernels on the CPU backend.
//!
//! burn-flex evaluates both element by element through the C library's `tanhf`/`expf` with a
//! branch per element, and burn's autodiff recomputes the activation in the backward pass; in a
//! PPO update of the small `simple` model that was about half of all time (perf, CartPole
//! preset; docs/benchmarks.md). Here the two are one backend extension: on flex a branch-free
//! exponential that the compiler vectorises (compiled for the best instruction set the CPU has,
//! chosen at run time by `pulp`), and on autodiff a backward pass that reuses the forward output
//! instead of recomputing it. Other backends (ndarray, wgpu) use their own `tanh`/`sigmoid`
//! forward, with the same output-based backward.
//!
//! Accuracy: within 2.5e-7 absolute of the exact functions for every f32 input (tested below);
//! NaN stays NaN, so a diverging run is still caught by the NaN checks.

use burn::{
    backend::{
        Autodiff, Backend, Flex,
        autodiff::{
            checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
            grads::Gradients,
            ops::{Backward, Ops, OpsKind, unary},
        },
        backend_extension,
        flex::FlexTensor,
        ops::{ActivationOps, FloatTensorOps},
        tensor::FloatTensor,
    },
    tensor::{DType, Tensor, TensorData},
};

#[cfg(feature = "ndarray")]
use burn::backend::NdArray;

/// The activations with fast kernels, as a burn backend extension.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Autodiff
)]
pub trait FastActivation: Backend {
    /// tanh(x).
    fn fast_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_tanh(x)
    }

    /// The gradient through tanh given its output `y`: `grad * (1 - y^2)`.
    fn fast_tanh_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        tanh_backward_composed::<Self>(y, grad)
    }

    /// The logistic sigmoid 1 / (1 + e^-x).
    fn fast_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::sigmoid(x)
    }

    /// The gradient through the sigmoid given its output `y`: `grad * y * (1 - y)`.
    fn fast_sigmoid_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::sigmoid_backward(y, grad)
    }
}

/// `grad * (1 - y^2)` from the backend's own operations.
fn tanh_backward_composed<B: Backend>(y: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let y2 = B::float_mul(y.clone(), y);
    let slope = B::float_add_scalar(B::float_neg(y2), 1f32.into());
    B::float_mul(grad, slope)
}

/// tanh(x), element-wise.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<burn::backend::Dispatch as FastActivation>::fast_tanh(
        x.into_dispatch(),
    ))
}

/// The logistic sigmoid, element-wise.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<burn::backend::Dispatch as FastActivation>::fast_sigmoid(
        x.into_dispatch(),
    ))
}

#[cfg(feature = "ndarray")]
impl FastActivation for NdArray {}

/// On a GPU, burn's own element-wise kernels.
#[cfg(feature = "wgpu")]
impl FastActivation for burn::backend::Cube {}

impl FastActivation for Flex {
    fn fast_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        map(x, Self::float_tanh, |v| 1.0 - 2.0 / (exp(2.0 * v) + 1.0))
    }

    fn fast_tanh_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        zip(y, grad, tanh_backward_composed::<Self>, |y, g| {
            g * (1.0 - y * y)
        })
    }

    fn fast_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        map(x, Self::sigmoid, |v| 1.0 / (1.0 + exp(-v)))
    }

    fn fast_sigmoid_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        zip(y, grad, Self::sigmoid_backward, |y, g| g * y * (1.0 - y))
    }
}

/// The autodiff node of an activation: its backward pass needs only the forward output.
#[derive(Debug)]
struct FromOutput<B: Backend> {
    backward: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
}

impl<B: Backend> Backward<B, 1> for FromOutput<B> {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            (self.backward)(output, grad)
        });
    }
}

/// Applies `forward` to an autodiff tensor; the output is kept for the backward pass (one
/// tensor of the same size, where burn's own activations keep the input and recompute).
fn tracked<B: Backend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    forward: fn(FloatTensor<B>) -> FloatTensor<B>,
    backward: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    match (FromOutput { backward })
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let y = forward(x.into_primitive());
            prep.finish(y.clone(), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive())),
    }
}

impl<B: FastActivation, C: CheckpointStrategy> FastActivation for Autodiff<B, C> {
    fn fast_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked::<B, C>(x, B::fast_tanh, B::fast_tanh_backward)
    }

    fn fast_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked::<B, C>(x, B::fast_sigmoid, B::fast_sigmoid_backward)
    }
}

/// `f` over every element of an f32 tensor into a new contiguous tensor; other dtypes go to
/// `fallback` (the backend's own operation).
fn map(
    x: FlexTensor,
    fallback: fn(FlexTensor) -> FlexTensor,
    f: impl Fn(f32) -> f32 + Copy,
) -> FlexTensor {
    if x.dtype() != DType::F32 {
        return fallback(x);
    }
    let x = if x.as_slice::<f32>().is_some() {
        x
    } else {
        x.to_contiguous()
    };
    let shape = x.layout().shape().clone();
    let input = x.as_slice::<f32>().expect("a contiguous f32 tensor");
    let mut output = vec![0.0f32; input.len()];
    pulp::Arch::new().dispatch(Kernel {
        output: &mut output,
        run: |out: &mut [f32]| {
            for (o, &v) in out.iter_mut().zip(input) {
                *o = f(v);
            }
        },
    });
    FlexTensor::from_data(TensorData::new(output, shape))
}

/// `f(a, b)` element by element for two f32 tensors of one shape into a new contiguous tensor;
/// anything else goes to `fallback` (the backend's own operations).
fn zip(
    a: FlexTensor,
    b: FlexTensor,
    fallback: fn(FlexTensor, FlexTensor) -> FlexTensor,
    f: impl Fn(f32, f32) -> f32 + Copy,
) -> FlexTensor {
    let fits = a.dtype() == DType::F32
        && b.dtype() == DType::F32
        && a.layout().shape() == b.layout().shape();
    if !fits {
        return fallback(a, b);
    }
    let a = a.to_contiguous();
    let b = b.to_contiguous();
    let (Some(xs), Some(ys)) = (a.as_slice::<f32>(), b.as_slice::<f32>()) else {
        return fallback(a, b);
    };
    let mut output = vec![0.0f32; xs.len()];
    pulp::Arch::new().dispatch(Kernel {
        output: &mut output,
        run: |out: &mut [f32]| {
            for ((o, &x), &y) in out.iter_mut().zip(xs).zip(ys) {
                *o = f(x, y);
            }
        },
    });
    FlexTensor::from_data(TensorData::new(output, a.layout().shape().clone()))
}

/// A loop run inside `pulp`'s dispatch, which compiles it once per instruction set (SSE2, AVX2
/// with FMA, AVX-512) and calls the best one this CPU supports; the loop body is plain scalar
/// code that the compiler vectorises.
struct Kernel<'a, F> {
    output: &'a mut [f32],
    run: F,
}

impl<F: FnOnce(&mut [f32])> pulp::WithSimd for Kernel<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        (self.run)(self.output)
    }
}

/// e^x without branches, so that a loop over it vectorises: x = k ln 2 + r with an integer k and
/// |r| <= ln 2 / 2, e^r from its Taylor polynomial to degree 7 (truncation error below 6e-9
/// relative), and 2^k written straight into the exponent bits. The input is clamped to
/// [-87, 88] so that 2^k stays a normal float; NaN passes through unchanged.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer in float arithmetic.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 split into a part exact in a float's leading bits and the remainder (Cody and
    // Waite), so that k * LN2_HIGH has no rounding error.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Written as selects rather than `clamp` so that the loop vectorises; NaN fails both
    // comparisons and stays.
    let x = if x < -87.0 { -87.0 } else { x };
    let x = if x > 88.0 { 88.0 } else { x };
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let k = shifted - ROUND;
    let r = (x - k * LN2_HIGH) - k * LN2_LOW;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // `shifted` holds k in the low bits of its mantissa (its bits are 0x4B40_0000 + k), so
    // adding the exponent bias and shifting keeps exactly k + 127, which lies in [1, 254]
    // after the clamp: 2^k as a normal float. (For NaN this gives 1, and p is NaN.)
    let two_k = f32::from_bits(shifted.to_bits().wrapping_add(127) << 23);
    p * two_k
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    /// Every 4099th f32 bit pattern in [-20, 20] and the edges.
    fn inputs() -> Vec<f32> {
        let mut xs: Vec<f32> = (0..u32::MAX / 4099)
            .map(|i| f32::from_bits(i * 4099))
            .filter(|x| x.is_finite() && x.abs() <= 20.0)
            .flat_map(|x| [x, -x])
            .collect();
        xs.extend([
            0.0,
            -0.0,
            87.0,
            -87.0,
            88.0,
            100.0,
            -100.0,
            f32::MAX,
            f32::MIN,
        ]);
        xs.extend([f32::INFINITY, f32::NEG_INFINITY]);
        xs
    }

    #[test]
    fn exp_is_within_two_ulps_of_the_exact_exponential() {
        for x in (-8700..=8800).map(|i| i as f32 * 0.01) {
            let exact = (x as f64).exp();
            let relative = ((exp(x) as f64 - exact) / exact).abs();
            assert!(relative < 2.5e-7, "exp({x}): relative error {relative}");
        }
    }

    #[test]
    fn kernels_match_the_exact_functions() {
        let xs = inputs();
        let tensor =
            Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &Device::flex());
        let t = tanh(tensor.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let s = sigmoid(tensor).into_data().try_to_vec::<f32>().unwrap();
        for ((&x, &t), &s) in xs.iter().zip(&t).zip(&s) {
            let x = x as f64;
            let (exact_t, exact_s) = (x.tanh(), 1.0 / (1.0 + (-x).exp()));
            assert!(
                (t as f64 - exact_t).abs() < 2.5e-7,
                "tanh({x}) = {t}, exact {exact_t}"
            );
            assert!(
                (s as f64 - exact_s).abs() < 2.5e-7,
                "sigmoid({x}) = {s}, exact {exact_s}"
            );
        }
    }

    #[test]
    fn nan_stays_nan() {
        let x = Tensor::<1>::from_data(TensorData::new(vec![f32::NAN, 1.0], [2]), &Device::flex());
        let t = tanh(x.clone()).into_data().try_to_vec::<f32>().unwrap();
        let s = sigmoid(x).into_data().try_to_vec::<f32>().unwrap();
        assert!(t[0].is_nan() && s[0].is_nan());
        assert!(!t[1].is_nan() && !s[1].is_nan());
    }

    /// Gradients through the custom autodiff node equal burn's own tanh and sigmoid, also on a
    /// strided (transposed) input and when the activation is used twice.
    #[test]
    fn gradients_equal_burns_own_activations() {
        let device = Device::flex().autodiff();
        let values: Vec<f32> = (0..24).map(|i| (i as f32 - 11.5) * 0.37).collect();
        let weights: Vec<f32> = (0..24).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let w = Tensor::<2>::from_data(TensorData::new(weights, [6, 4]), &device);
        let run = |ours: bool| {
            let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [4, 6]), &device)
                .require_grad();
            let xt = x.clone().transpose();
            let (t, s) = if ours {
                (tanh(xt.clone()), sigmoid(xt.clone()))
            } else {
                (
                    burn::tensor::activation::tanh(xt.clone()),
                    burn::tensor::activation::sigmoid(xt.clone()),
                )
            };
            let loss = ((t.clone() * w.clone()).sum() + (s * t * w.clone()).sum()) * 0.5;
            let grads = loss.backward();
            x.grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (ours, reference) = (run(true), run(false));
        for (a, b) in ours.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-6, "{ours:?}\n{reference:?}");
        }
    }
}
