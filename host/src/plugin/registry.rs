//! The registry: every component of every loaded library, by name.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use abi_stable::std_types::{RNone, RSome, RStr};
use angora_plugin_api::{BodyDescription, ComponentKind};
use serde::Serialize;

use super::{
    component::{
        BodyInstance, CallError, DistributionInstance, EncoderInstance, Ident, ModelInstance,
        TaskInstance,
    },
    loader::{self, Library, LoadError, SearchPath},
};

/// One component as its library describes it.
#[derive(Debug, Clone)]
pub struct ComponentInfo {
    /// The kind.
    pub kind: ComponentKind,
    /// The unique name.
    pub name: String,
    /// The component's version.
    pub version: String,
    /// A sentence or two about it.
    pub description: String,
    /// The full default config.
    pub default_config: serde_json::Value,
    /// The library that provides it.
    pub library: Arc<Library>,
}

/// Something that went wrong while building the registry; the rest still loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    /// A file could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Two libraries register the same name; neither is used.
    #[error(
        "component name '{name}' is registered by both {first} and {second}; neither is used until one is removed"
    )]
    Duplicate {
        /// The name.
        name: String,
        /// The library seen first.
        first: PathBuf,
        /// The library seen second.
        second: PathBuf,
    },
}

impl Problem {
    /// The file the problem is about.
    pub fn file(&self) -> PathBuf {
        match self {
            Problem::Load(
                LoadError::Directory { path, .. }
                | LoadError::NotALibrary { path, .. }
                | LoadError::Corrupt { path, .. }
                | LoadError::Open { path, .. }
                | LoadError::NoRootModule { path }
                | LoadError::Incompatible { path, .. }
                | LoadError::Listing { path, .. },
            ) => path.clone(),
            Problem::Duplicate { second, .. } => second.clone(),
        }
    }
}

/// A component could not be found or created.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No loaded plugin provides a component of this name and kind.
    #[error("unknown {kind} '{name}'{suggestion}; available {}: {available}", kind.plural())]
    Unknown {
        /// The kind asked for.
        kind: ComponentKind,
        /// The name asked for.
        name: String,
        /// `" (did you mean 'X'?)"` or empty.
        suggestion: String,
        /// The names of that kind, comma-separated (or "none").
        available: String,
    },
    /// The name belongs to a component of another kind.
    #[error("'{name}' is a {actual}, not a {wanted}")]
    WrongKind {
        /// The name.
        name: String,
        /// The kind asked for.
        wanted: ComponentKind,
        /// The kind it is.
        actual: ComponentKind,
    },
    /// Two libraries register the name.
    #[error("'{name}' is registered by both {first} and {second}; remove one of them")]
    Ambiguous {
        /// The name.
        name: String,
        /// One library.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// The plugin refused or failed to create the component.
    #[error(transparent)]
    Create(#[from] CallError),
}

impl RegistryError {
    /// Whether the error is the user's or a plugin's input rather than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        match self {
            RegistryError::Create(e) => e.is_bad_input(),
            _ => true,
        }
    }
}

/// All components of all loaded libraries.
#[derive(Debug, Default)]
pub struct Registry {
    components: BTreeMap<String, ComponentInfo>,
    ambiguous: BTreeMap<String, (PathBuf, PathBuf)>,
    libraries: Vec<Arc<Library>>,
    problems: Vec<Problem>,
}

impl Registry {
    /// Loads every plugin file on the search path. Files that fail are recorded as problems.
    pub fn load(search: &SearchPath) -> Registry {
        let (files, dir_errors) = search.files();
        let mut registry = Registry {
            problems: dir_errors.into_iter().map(Problem::from).collect(),
            ..Registry::default()
        };
        for file in files {
            match loader::load(&file) {
                Ok((library, descriptors)) => registry.add(library, descriptors),
                Err(e) => registry.problems.push(e.into()),
            }
        }
        registry
    }

    fn add(
        &mut self,
        library: Arc<Library>,
        descriptors: Vec<angora_plugin_api::ComponentDescriptor>,
    ) {
        for d in descriptors {
            let name = d.name.to_string();
            if let Some((first, _)) = self.ambiguous.get(&name) {
                self.problems.push(Problem::Duplicate {
                    name,
                    first: first.clone(),
                    second: library.path.clone(),
                });
                continue;
            }
            if let Some(existing) = self.components.remove(&name) {
                let (first, second) = (existing.library.path.clone(), library.path.clone());
                self.problems.push(Problem::Duplicate {
                    name: name.clone(),
                    first: first.clone(),
                    second: second.clone(),
                });
                self.ambiguous.insert(name, (first, second));
                continue;
            }
            let default_config = match serde_json::from_str(d.default_config.as_str()) {
                Ok(v) => v,
                Err(e) => {
                    self.problems.push(Problem::Load(LoadError::Listing {
                        path: library.path.clone(),
                        reason: format!("the default config of '{name}' is not valid JSON: {e}"),
                    }));
                    continue;
                }
            };
            let info = ComponentInfo {
                kind: d.kind,
                name: name.clone(),
                version: d.version.to_string(),
                description: d.description.to_string(),
                default_config,
                library: library.clone(),
            };
            self.components.insert(name, info);
        }
        self.libraries.push(library);
    }

    /// The usable components, sorted by kind then name.
    pub fn components(&self) -> Vec<&ComponentInfo> {
        let mut list: Vec<&ComponentInfo> = self.components.values().collect();
        list.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        list
    }

    /// The libraries that loaded.
    pub fn libraries(&self) -> &[Arc<Library>] {
        &self.libraries
    }

    /// Everything that went wrong while loading.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Looks a component up by name, of any kind.
    pub fn find(&self, name: &str) -> Option<&ComponentInfo> {
        self.components.get(name)
    }

    /// Looks a component up by kind and name, with a helpful error.
    pub fn get(&self, kind: ComponentKind, name: &str) -> Result<&ComponentInfo, RegistryError> {
        if let Some(info) = self.components.get(name) {
            if info.kind != kind {
                return Err(RegistryError::WrongKind {
                    name: name.into(),
                    wanted: kind,
                    actual: info.kind,
                });
            }
            return Ok(info);
        }
        if let Some((first, second)) = self.ambiguous.get(name) {
            return Err(RegistryError::Ambiguous {
                name: name.into(),
                first: first.clone(),
                second: second.clone(),
            });
        }
        let names: Vec<&str> = self
            .components()
            .into_iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.name.as_str())
            .collect();
        Err(RegistryError::Unknown {
            kind,
            name: name.into(),
            suggestion: suggest(name, &names)
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default(),
            available: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
        })
    }

    /// Creates a task. `config` holds the keys to override in the task's defaults.
    pub fn task(
        &self,
        name: &str,
        config: &serde_json::Value,
        body: Option<&BodyDescription>,
    ) -> Result<TaskInstance, RegistryError> {
        let info = self.get(ComponentKind::Task, name)?;
        let ident = Ident::of(info);
        let config = config_text(config);
        let body_text =
            body.map(|b| serde_json::to_string(b).expect("a body description always serialises"));
        let body_arg = match &body_text {
            Some(text) => RSome(RStr::from_str(text)),
            None => RNone,
        };
        let result = (info.library.root().new_task())(
            RStr::from_str(name),
            RStr::from_str(&config),
            body_arg,
        );
        let boxed = ident.result("create", result)?;
        Ok(TaskInstance::new(ident, boxed)?)
    }

    /// Creates a body.
    pub fn body(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<BodyInstance, RegistryError> {
        let info = self.get(ComponentKind::Body, name)?;
        let ident = Ident::of(info);
        let result = (info.library.root().new_body())(
            RStr::from_str(name),
            RStr::from_str(&config_text(config)),
        );
        let boxed = ident.result("create", result)?;
        Ok(BodyInstance::new(ident, boxed)?)
    }

    /// Creates a sensation encoder.
    pub fn encoder(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<EncoderInstance, RegistryError> {
        let info = self.get(ComponentKind::Encoder, name)?;
        let ident = Ident::of(info);
        let result = (info.library.root().new_encoder())(
            RStr::from_str(name),
            RStr::from_str(&config_text(config)),
        );
        Ok(EncoderInstance::new(
            ident.clone(),
            ident.result("create", result)?,
        ))
    }

    /// Creates a model architecture.
    pub fn model(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<ModelInstance, RegistryError> {
        let info = self.get(ComponentKind::Model, name)?;
        let ident = Ident::of(info);
        let result = (info.library.root().new_model())(
            RStr::from_str(name),
            RStr::from_str(&config_text(config)),
        );
        Ok(ModelInstance::new(
            ident.clone(),
            ident.result("create", result)?,
        ))
    }

    /// Creates a policy distribution.
    pub fn distribution(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<DistributionInstance, RegistryError> {
        let info = self.get(ComponentKind::Distribution, name)?;
        let ident = Ident::of(info);
        let result = (info.library.root().new_distribution())(
            RStr::from_str(name),
            RStr::from_str(&config_text(config)),
        );
        Ok(DistributionInstance::new(
            ident.clone(),
            ident.result("create", result)?,
        ))
    }
}

/// A JSON object of overrides as text; `null` means no overrides.
fn config_text(config: &serde_json::Value) -> String {
    if config.is_null() {
        String::new()
    } else {
        config.to_string()
    }
}

/// The closest name, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::normalized_damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The JSON shape of `angora plugins --json`.
#[derive(Serialize)]
pub struct Listing<'a> {
    /// This host's plugin API version.
    pub api_version: &'a str,
    /// The directories searched, in order.
    pub search_path: Vec<String>,
    /// The usable components.
    pub components: Vec<ListedComponent<'a>>,
    /// What failed to load.
    pub problems: Vec<ListedProblem>,
}

/// One component in [`Listing`].
#[derive(Serialize)]
pub struct ListedComponent<'a> {
    /// Kind name.
    pub kind: &'static str,
    /// Component name.
    pub name: &'a str,
    /// Component version.
    pub version: &'a str,
    /// Description.
    pub description: &'a str,
    /// Library file.
    pub file: String,
    /// SHA-256 of the library file.
    pub sha256: &'a str,
    /// Default config.
    pub default_config: &'a serde_json::Value,
}

/// One problem in [`Listing`].
#[derive(Serialize)]
pub struct ListedProblem {
    /// The file concerned.
    pub file: String,
    /// The message.
    pub message: String,
}

impl Registry {
    /// The registry as the JSON listing.
    pub fn listing(&self, search: &SearchPath) -> Listing<'_> {
        Listing {
            api_version: angora_plugin_api::API_VERSION,
            search_path: search
                .dirs
                .iter()
                .map(|(d, _)| d.display().to_string())
                .collect(),
            components: self
                .components()
                .into_iter()
                .map(ListedComponent::from)
                .collect(),
            problems: self
                .problems
                .iter()
                .map(|p| ListedProblem {
                    file: p.file().display().to_string(),
                    message: p.to_string(),
                })
                .collect(),
        }
    }
}

impl<'a> From<&'a ComponentInfo> for ListedComponent<'a> {
    fn from(c: &'a ComponentInfo) -> Self {
        ListedComponent {
            kind: c.kind.as_str(),
            name: &c.name,
            version: &c.version,
            description: &c.description,
            file: c.library.path.display().to_string(),
            sha256: &c.library.sha256,
            default_config: &c.default_config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["CartPole-v1", "Acrobot-v1"];
        assert_eq!(suggest("cartpole-v1", &names), Some("CartPole-v1"));
        assert_eq!(suggest("CartPol-v1", &names), Some("CartPole-v1"));
        assert_eq!(suggest("Humanoid-v5", &names), None);
    }
}
