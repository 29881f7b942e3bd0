//! A network's parameters as one flat `f32` vector, in the module's visiting order: the form
//! the optimiser, the checkpoints and (for MPI) the all-reduce work on.

use burn::{
    module::{Module, ModuleMapper, ModuleVisitor, Param},
    tensor::{Gradients, Tensor, TensorData},
};
use serde::{Deserialize, Serialize};

/// Where one parameter lives in the flat vector.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ParamSlot {
    /// The parameter's path in the module, e.g. `dense.0.weight`.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its first index in the flat vector.
    pub offset: usize,
}

/// The layout of a network's flat parameter vector.
pub fn layout<M: Module>(module: &M) -> Vec<ParamSlot> {
    struct Walk {
        path: Vec<String>,
        slots: Vec<ParamSlot>,
        offset: usize,
    }
    impl ModuleVisitor for Walk {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let shape = param.val().dims().to_vec();
            let size: usize = shape.iter().product();
            self.slots.push(ParamSlot {
                name: self.path.join("."),
                shape,
                offset: self.offset,
            });
            self.offset += size;
        }
    }
    let mut walk = Walk {
        path: Vec::new(),
        slots: Vec::new(),
        offset: 0,
    };
    module.visit(&mut walk);
    walk.slots
}

fn to_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensors convert to f32")
}

/// All parameter values, flattened.
pub fn values<M: Module>(module: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(to_vec(param.val()));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}

/// All parameter gradients, flattened (zeros for parameters that received none).
pub fn gradients<M: Module>(module: &M, grads: &Gradients) -> Vec<f32> {
    struct Collect<'a> {
        grads: &'a Gradients,
        out: Vec<f32>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            match value.grad(self.grads) {
                Some(grad) => self.out.extend(to_vec(grad)),
                None => self
                    .out
                    .extend(std::iter::repeat_n(0.0, value.dims().iter().product())),
            }
        }
    }
    let mut collect = Collect {
        grads,
        out: Vec::new(),
    };
    module.visit(&mut collect);
    collect.out
}

/// Replaces every parameter value with the next slice of `flat`, keeping ids and devices.
///
/// # Panics
/// If `flat` does not hold exactly the module's number of parameters.
pub fn load<M: Module>(module: M, flat: &[f32]) -> M {
    struct Load<'a> {
        flat: &'a [f32],
        at: usize,
    }
    impl ModuleMapper for Load<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, value, mapper) = param.consume();
            let dims = value.dims();
            let size: usize = dims.iter().product();
            let device = value.device();
            let data = TensorData::new(self.flat[self.at..self.at + size].to_vec(), dims);
            self.at += size;
            let mut tensor = Tensor::<D>::from_data(data, &device);
            if device.is_autodiff() {
                tensor = tensor.require_grad();
            }
            Param::from_mapped_value(id, tensor, mapper)
        }
    }
    let mut load = Load { flat, at: 0 };
    let module = module.map(&mut load);
    assert_eq!(
        load.at,
        flat.len(),
        "the flat parameter vector does not match the module"
    );
    module
}
