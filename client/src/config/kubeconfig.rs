//! The kubeconfig file: its serde model, loading from `KUBECONFIG`, and merging.
//!
//! The model keeps every field it does not know in an `extra` map at each level, so a
//! kubeconfig read and written again loses nothing (`kubectl config` does the same
//! with its `extensions`, and tools put their own keys next to ours).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::ConfigError;

/// The environment variable holding a list of kubeconfig files.
pub(crate) const KUBECONFIG: &str = "KUBECONFIG";

/// A kubeconfig file (`apiVersion: v1`, `kind: Config`): clusters, users, the
/// contexts pairing them, and which context is current.
///
/// client-go's `clientcmdapi.Config`. Fields this model does not know are kept in
/// [`extra`](Self::extra) (and in the `extra` of each entry), so
/// [`from_yaml`](Self::from_yaml) followed by [`to_yaml`](Self::to_yaml) keeps them.
///
/// # Examples
///
/// ```
/// use kubeforge_client::config::Kubeconfig;
///
/// let kc = Kubeconfig::from_yaml(
///     "
/// clusters:
/// - name: dev
///   cluster: {server: 'https://127.0.0.1:6443'}
/// contexts:
/// - name: dev
///   context: {cluster: dev, user: me}
/// current-context: dev
/// users:
/// - name: me
///   user: {token: abc}
/// x-tool-setting: keep me
/// ",
/// )?;
/// assert_eq!(kc.current_context.as_deref(), Some("dev"));
/// assert!(kc.to_yaml()?.contains("x-tool-setting: keep me"));
/// # Ok::<(), kubeforge_client::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kubeconfig {
    /// `apiVersion` (`v1`).
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `kind` (`Config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `preferences`, kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Value>,
    /// `clusters`: where apiservers are and how to trust them.
    pub clusters: Vec<NamedCluster>,
    /// `contexts`: a cluster, a user and a namespace under one name.
    pub contexts: Vec<NamedContext>,
    /// `current-context`: the context used when none is chosen.
    #[serde(rename = "current-context", skip_serializing_if = "Option::is_none")]
    pub current_context: Option<String>,
    /// `users` (client-go's `AuthInfo`s): credentials.
    pub users: Vec<NamedAuthInfo>,
    /// `extensions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this model does not know, kept for writing back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A cluster under its name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamedCluster {
    /// The name contexts refer to.
    pub name: String,
    /// The cluster.
    pub cluster: Cluster,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where an apiserver is and how to trust it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cluster {
    /// `server`: the apiserver's URL (`https://host:port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `tls-server-name`: the name to check the server's certificate against.
    #[serde(rename = "tls-server-name", skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// `insecure-skip-tls-verify`: do not check the server's certificate.
    #[serde(
        rename = "insecure-skip-tls-verify",
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// `certificate-authority`: a PEM file of CA certificates (relative paths resolve
    /// against the kubeconfig's directory).
    #[serde(
        rename = "certificate-authority",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority: Option<String>,
    /// `certificate-authority-data`: base64 of PEM CA certificates; wins over the file.
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<String>,
    /// `proxy-url`: an `http`, `https` or `socks5` proxy.
    #[serde(rename = "proxy-url", skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// `disable-compression`.
    #[serde(
        rename = "disable-compression",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_compression: Option<bool>,
    /// `extensions` (the one named `client.authentication.k8s.io/exec` is handed to
    /// exec plugins that ask for cluster information).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The file this entry was read from (never serialized): relative paths in it
    /// resolve against that file's directory, client-go's `LocationOfOrigin`.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// A context under its name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamedContext {
    /// The name `current-context` and [`KubeconfigOptions::context`] refer to.
    ///
    /// [`KubeconfigOptions::context`]: super::KubeconfigOptions::context
    pub name: String,
    /// The context.
    pub context: Context,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A cluster, a user and a default namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    /// `cluster`: the name of a [`NamedCluster`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `user`: the name of a [`NamedAuthInfo`]; none means anonymous.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `namespace`: the default namespace (`default` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `extensions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user under its name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamedAuthInfo {
    /// The name contexts refer to.
    pub name: String,
    /// The credentials.
    pub user: AuthInfo,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Credentials of a user (client-go's `AuthInfo`). `Debug` hides secrets.
#[derive(Clone, Default, PartialEq, Serialize)]
pub struct AuthInfo {
    /// `client-certificate`: a PEM certificate file.
    #[serde(rename = "client-certificate", skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// `client-certificate-data`: base64 of a PEM certificate; wins over the file.
    #[serde(
        rename = "client-certificate-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<String>,
    /// `client-key`: a PEM private key file.
    #[serde(rename = "client-key", skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// `client-key-data`: base64 of a PEM private key; wins over the file.
    #[serde(rename = "client-key-data", skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<String>,
    /// `token`: a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `tokenFile`: a file holding a bearer token, re-read as it rotates.
    #[serde(rename = "tokenFile", skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// `as`: a user to impersonate.
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub impersonate: Option<String>,
    /// `as-uid`: a UID to impersonate.
    #[serde(rename = "as-uid", skip_serializing_if = "Option::is_none")]
    pub impersonate_uid: Option<String>,
    /// `as-groups`: groups to impersonate.
    #[serde(rename = "as-groups", skip_serializing_if = "Option::is_none")]
    pub impersonate_groups: Option<Vec<String>>,
    /// `as-user-extra`: extra fields to impersonate.
    #[serde(rename = "as-user-extra", skip_serializing_if = "Option::is_none")]
    pub impersonate_user_extra: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// `username` for basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `password` for basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `auth-provider`: a legacy in-tree provider, kept as written (not supported).
    #[serde(rename = "auth-provider", skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<Value>,
    /// `exec`: a credential plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    /// `extensions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The file this entry was read from (never serialized): relative paths in it
    /// resolve against that file's directory, client-go's `LocationOfOrigin`.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

impl std::fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("AuthInfo")
            .field("client_certificate", &self.client_certificate)
            .field(
                "client_certificate_data",
                &self.client_certificate_data.as_ref().map(|_| "<pem>"),
            )
            .field("client_key", &self.client_key)
            .field("client_key_data", &redact(&self.client_key_data))
            .field("token", &redact(&self.token))
            .field("token_file", &self.token_file)
            .field("impersonate", &self.impersonate)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("auth_provider", &self.auth_provider.as_ref().map(|_| ".."))
            .field("exec", &self.exec)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// An exec credential plugin: a command printing an `ExecCredential` on stdout.
///
/// client-go's `clientcmdapi.ExecConfig`; see [`ExecPlugin`](super::ExecPlugin) for
/// how it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecConfig {
    /// `apiVersion` of the `ExecCredential` exchanged:
    /// `client.authentication.k8s.io/v1` or `…/v1beta1`.
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `command`: the executable; a relative path containing a `/` resolves against
    /// the kubeconfig's directory, a bare name is looked up in `PATH`.
    pub command: String,
    /// `args`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// `env`: variables added to the process environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<ExecEnvVar>>,
    /// `installHint`: shown when the command is not found.
    #[serde(rename = "installHint", skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
    /// `provideClusterInfo`: pass the cluster in `KUBERNETES_EXEC_INFO`.
    #[serde(rename = "provideClusterInfo", skip_serializing_if = "Option::is_none")]
    pub provide_cluster_info: Option<bool>,
    /// `interactiveMode`: `Never`, `IfAvailable` or `Always` (required for `v1`,
    /// `IfAvailable` by default for `v1beta1`). Checked when the configuration is
    /// built, so an unused user with a bad value does not stop a kubeconfig loading.
    #[serde(rename = "interactiveMode", skip_serializing_if = "Option::is_none")]
    pub interactive_mode: Option<String>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An environment variable for an exec plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecEnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An extension under its name; the extension itself is kept as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamedExtension {
    /// The extension's name.
    pub name: String,
    /// The extension (any object).
    pub extension: Value,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// Reading. Derived `Deserialize` with `#[serde(flatten)]` would buffer every value
// untyped first, so a plain scalar would be typed by its look (`namespace: no` a
// boolean, `name: 0123` a number) instead of by the field it goes to. These visitors
// read known keys straight into their field's type and only unknown ones untyped.

/// Implements `Deserialize` for a model struct: each `key => field` is read with
/// `reader`, any other key goes to `extra`.
macro_rules! deserialize_keeping_unknown {
    ($ty:ident { $($key:literal => $field:ident: $reader:ident),* $(,)? }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a mapping (", stringify!($ty), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $($key => out.$field = $reader(&mut map)?,)*
                                _ => {
                                    let value: Value = map.next_value()?;
                                    out.extra.insert(key, value);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

/// The value as its type says.
fn typed<'de, A: MapAccess<'de>, T: Deserialize<'de>>(map: &mut A) -> Result<T, A::Error> {
    map.next_value()
}

/// The value, or the default for `null` (as in `users: null`, which `kubectl config
/// view` writes for an empty list).
fn or_default<'de, A, T>(map: &mut A) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(map.next_value::<Option<T>>()?.unwrap_or_default())
}

deserialize_keeping_unknown!(Kubeconfig {
    "apiVersion" => api_version: typed,
    "kind" => kind: typed,
    "preferences" => preferences: typed,
    "clusters" => clusters: or_default,
    "contexts" => contexts: or_default,
    "current-context" => current_context: typed,
    "users" => users: or_default,
    "extensions" => extensions: typed,
});

deserialize_keeping_unknown!(NamedCluster {
    "name" => name: or_default,
    "cluster" => cluster: or_default,
});

deserialize_keeping_unknown!(Cluster {
    "server" => server: typed,
    "tls-server-name" => tls_server_name: typed,
    "insecure-skip-tls-verify" => insecure_skip_tls_verify: typed,
    "certificate-authority" => certificate_authority: typed,
    "certificate-authority-data" => certificate_authority_data: typed,
    "proxy-url" => proxy_url: typed,
    "disable-compression" => disable_compression: typed,
    "extensions" => extensions: typed,
});

deserialize_keeping_unknown!(NamedContext {
    "name" => name: or_default,
    "context" => context: or_default,
});

deserialize_keeping_unknown!(Context {
    "cluster" => cluster: typed,
    "user" => user: typed,
    "namespace" => namespace: typed,
    "extensions" => extensions: typed,
});

deserialize_keeping_unknown!(NamedAuthInfo {
    "name" => name: or_default,
    "user" => user: or_default,
});

deserialize_keeping_unknown!(AuthInfo {
    "client-certificate" => client_certificate: typed,
    "client-certificate-data" => client_certificate_data: typed,
    "client-key" => client_key: typed,
    "client-key-data" => client_key_data: typed,
    "token" => token: typed,
    "tokenFile" => token_file: typed,
    "as" => impersonate: typed,
    "as-uid" => impersonate_uid: typed,
    "as-groups" => impersonate_groups: typed,
    "as-user-extra" => impersonate_user_extra: typed,
    "username" => username: typed,
    "password" => password: typed,
    "auth-provider" => auth_provider: typed,
    "exec" => exec: typed,
    "extensions" => extensions: typed,
});

deserialize_keeping_unknown!(ExecConfig {
    "apiVersion" => api_version: typed,
    "command" => command: or_default,
    "args" => args: typed,
    "env" => env: typed,
    "installHint" => install_hint: typed,
    "provideClusterInfo" => provide_cluster_info: typed,
    "interactiveMode" => interactive_mode: typed,
});

deserialize_keeping_unknown!(ExecEnvVar {
    "name" => name: or_default,
    "value" => value: or_default,
});

deserialize_keeping_unknown!(NamedExtension {
    "name" => name: or_default,
    "extension" => extension: typed,
});

impl Kubeconfig {
    /// Parses a kubeconfig from YAML (JSON is YAML too). An empty document is an
    /// empty kubeconfig. Relative paths stay as written: nothing says what they are
    /// relative to (see [`read_from`](Self::read_from)).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] when the text is not YAML of the kubeconfig shape.
    pub fn from_yaml(yaml: &str) -> Result<Kubeconfig, ConfigError> {
        parse(yaml, None)
    }

    /// Reads and parses one kubeconfig file, remembering it as the
    /// [`origin`](Cluster::origin) of its clusters and users so that relative paths
    /// in them resolve against its directory.
    ///
    /// Reads synchronously: kubeconfigs are small and read once, at start-up.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Read`] when the file cannot be read, [`ConfigError::Parse`]
    /// when it is not a kubeconfig.
    pub fn read_from(path: impl AsRef<Path>) -> Result<Kubeconfig, ConfigError> {
        let path = path.as_ref();
        // Absolute now, so a later change of the working directory cannot move the
        // files the kubeconfig refers to (client-go takes the absolute directory too).
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let mut kc = parse(&text, Some(&path))?;
        for c in &mut kc.clusters {
            c.cluster.origin = Some(path.clone());
        }
        for u in &mut kc.users {
            u.user.origin = Some(path.clone());
        }
        Ok(kc)
    }

    /// Reads every file of a list that exists, in order, and
    /// [merges](Self::merge) them: the first file to name a cluster, context or user
    /// defines it, and the first file that sets `current-context` decides it.
    /// Missing files are skipped and a file listed twice is read once, as client-go
    /// does for `KUBECONFIG`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoKubeconfig`] when no file of the list exists; the error of
    /// [`read_from`](Self::read_from) for the first file that exists but cannot be
    /// read or parsed.
    pub fn read_merged<I, P>(paths: I) -> Result<Kubeconfig, ConfigError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut merged: Option<Kubeconfig> = None;
        for p in paths {
            let p = p.as_ref();
            if p.as_os_str().is_empty() || seen.iter().any(|s| s == p) {
                continue;
            }
            seen.push(p.to_path_buf());
            if !p.exists() {
                continue;
            }
            let next = Kubeconfig::read_from(p)?;
            merged = Some(match merged {
                None => next,
                Some(m) => m.merge(next),
            });
        }
        merged.ok_or_else(|| ConfigError::NoKubeconfig {
            searched: seen
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Reads the kubeconfig the way kubectl finds it: the files listed in
    /// `KUBECONFIG` (separated by `:`, `;` on Windows), merged by
    /// [`read_merged`](Self::read_merged); or `~/.kube/config` when `KUBECONFIG` is
    /// unset or empty.
    ///
    /// # Errors
    ///
    /// As [`read_merged`](Self::read_merged).
    pub fn read() -> Result<Kubeconfig, ConfigError> {
        Kubeconfig::read_merged(default_paths(&|k| std::env::var_os(k)))
    }

    /// Merges `next` into `self`, `self` taking precedence (client-go's rules for the
    /// files of `KUBECONFIG`, `self` being the earlier file):
    ///
    /// - a cluster, context, user or extension named in both is `self`'s, whole;
    ///   those only `next` names are added after `self`'s;
    /// - `current-context`, `apiVersion` and `kind` are `self`'s when set (an empty
    ///   string counts as unset), else `next`'s;
    /// - keys of `preferences` and unknown top-level fields are added from `next`
    ///   when `self` lacks them.
    #[must_use]
    pub fn merge(mut self, next: Kubeconfig) -> Kubeconfig {
        fn first_set(a: Option<String>, b: Option<String>) -> Option<String> {
            match a {
                Some(s) if !s.is_empty() => Some(s),
                _ => b.or(a),
            }
        }
        fn add_missing<T>(ours: &mut Vec<T>, theirs: Vec<T>, name: impl Fn(&T) -> &str) {
            for t in theirs {
                if !ours.iter().any(|o| name(o) == name(&t)) {
                    ours.push(t);
                }
            }
        }
        self.api_version = first_set(self.api_version, next.api_version);
        self.kind = first_set(self.kind, next.kind);
        self.current_context = first_set(self.current_context, next.current_context);
        add_missing(&mut self.clusters, next.clusters, |c| &c.name);
        add_missing(&mut self.contexts, next.contexts, |c| &c.name);
        add_missing(&mut self.users, next.users, |u| &u.name);
        self.extensions = match (self.extensions, next.extensions) {
            (Some(mut ours), Some(theirs)) => {
                add_missing(&mut ours, theirs, |e| &e.name);
                Some(ours)
            }
            (ours, theirs) => ours.or(theirs),
        };
        self.preferences = match (self.preferences, next.preferences) {
            (Some(Value::Object(mut ours)), Some(Value::Object(theirs))) => {
                for (k, v) in theirs {
                    ours.entry(k).or_insert(v);
                }
                Some(Value::Object(ours))
            }
            (ours, theirs) => ours.or(theirs),
        };
        for (k, v) in next.extra {
            self.extra.entry(k).or_insert(v);
        }
        self
    }

    /// Writes the kubeconfig as YAML, unknown fields included.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Serialize`] if the YAML writer fails (it does not for values
    /// this model can hold).
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_saphyr::to_string(self).map_err(|e| ConfigError::Serialize(Box::new(e)))
    }

    /// The context of that name.
    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The cluster of that name.
    pub fn cluster(&self, name: &str) -> Option<&NamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The user of that name.
    pub fn user(&self, name: &str) -> Option<&NamedAuthInfo> {
        self.users.iter().find(|u| u.name == name)
    }
}

fn parse(yaml: &str, path: Option<&Path>) -> Result<Kubeconfig, ConfigError> {
    // An empty file is an empty kubeconfig, as for client-go (a YAML document with
    // no content is not a mapping, so say it here).
    if yaml
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Kubeconfig::default());
    }
    serde_saphyr::from_str(yaml).map_err(|source| ConfigError::Parse {
        path: path.map(Path::to_path_buf),
        source: Box::new(source),
    })
}

/// The files `Kubeconfig::read` looks at, from an environment lookup (a parameter so
/// tests need not touch the process environment).
pub(crate) fn default_paths(env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    match env(KUBECONFIG) {
        Some(list) if !list.is_empty() => std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        _ => home_dir(env)
            .map(|h| vec![h.join(".kube").join("config")])
            .unwrap_or_default(),
    }
}

fn home_dir(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    env(var).filter(|h| !h.is_empty()).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<NamedCluster> {
        names
            .iter()
            .map(|n| NamedCluster {
                name: n.to_string(),
                cluster: Cluster {
                    server: Some(format!("https://{n}")),
                    ..Cluster::default()
                },
                extra: Map::new(),
            })
            .collect()
    }

    fn kc(yaml: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(yaml).expect("valid kubeconfig")
    }

    #[test]
    fn the_first_file_defines_each_named_entry_whole() {
        let first = kc("
clusters:
- name: shared
  cluster: {server: 'https://first'}
users:
- name: u
  user: {token: first}
");
        let second = kc("
clusters:
- name: shared
  cluster: {server: 'https://second', insecure-skip-tls-verify: true}
- name: only-second
  cluster: {server: 'https://only-second'}
users:
- name: u
  user: {token: second, username: bob}
");
        let merged = first.merge(second);
        let servers: Vec<_> = merged
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), c.cluster.server.as_deref()))
            .collect();
        assert_eq!(
            servers,
            [
                ("shared", Some("https://first")),
                ("only-second", Some("https://only-second"))
            ]
        );
        // Whole entry: no field of the later file's `shared` leaks in.
        assert_eq!(merged.clusters[0].cluster.insecure_skip_tls_verify, None);
        assert_eq!(merged.users[0].user.username, None);
    }

    #[test]
    fn current_context_comes_from_the_first_file_that_sets_it() {
        let cases = [
            // (first, second, merged)
            (Some("a"), Some("b"), Some("a")),
            (None, Some("b"), Some("b")),
            // an empty string is unset, as in client-go
            (Some(""), Some("b"), Some("b")),
            (Some("a"), None, Some("a")),
            (None, None, None),
        ];
        for (a, b, want) in cases {
            let first = Kubeconfig {
                current_context: a.map(String::from),
                ..Kubeconfig::default()
            };
            let second = Kubeconfig {
                current_context: b.map(String::from),
                ..Kubeconfig::default()
            };
            assert_eq!(
                first.merge(second).current_context.as_deref(),
                want,
                "{a:?} + {b:?}"
            );
        }
    }

    #[test]
    fn unknown_top_level_fields_and_preferences_fill_in_from_later_files() {
        let first = kc("preferences: {colors: true}\nx-a: 1\nx-shared: first\n");
        let second = kc("preferences: {colors: false, other: 2}\nx-b: 2\nx-shared: second\n");
        let merged = first.merge(second);
        assert_eq!(
            merged.preferences,
            Some(serde_json::json!({"colors": true, "other": 2}))
        );
        assert_eq!(
            Value::Object(merged.extra),
            serde_json::json!({"x-a": 1, "x-b": 2, "x-shared": "first"})
        );
    }

    #[test]
    fn merging_keeps_the_order_of_first_appearance() {
        let a = Kubeconfig {
            clusters: named(&["b", "a"]),
            ..Kubeconfig::default()
        };
        let b = Kubeconfig {
            clusters: named(&["c", "a", "d"]),
            ..Kubeconfig::default()
        };
        let names: Vec<_> = a.merge(b).clusters.into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["b", "a", "c", "d"]);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip_at_every_level() {
        let yaml = "
apiVersion: v1
kind: Config
x-top: {nested: [1, 2]}
clusters:
- name: c
  x-named: named
  cluster:
    server: https://c
    x-cluster: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: me}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: ns, x-context: 3}
current-context: ctx
users:
- name: u
  user:
    x-user: yes-really
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: plugin
      interactiveMode: Never
      x-exec: 1
      env: [{name: A, value: b, x-env: 2}]
preferences: {}
";
        let first = kc(yaml);
        assert_eq!(first.extra["x-top"], serde_json::json!({"nested": [1, 2]}));
        assert_eq!(first.clusters[0].extra["x-named"], "named");
        assert_eq!(first.clusters[0].cluster.extra["x-cluster"], true);
        assert_eq!(first.contexts[0].context.extra["x-context"], 3);
        assert_eq!(first.users[0].user.extra["x-user"], "yes-really");
        let exec = first.users[0].user.exec.as_ref().expect("exec");
        assert_eq!(exec.extra["x-exec"], 1);
        assert_eq!(exec.env.as_ref().expect("env")[0].extra["x-env"], 2);
        let written = first.to_yaml().expect("yaml");
        assert_eq!(kc(&written), first, "written:\n{written}");
    }

    #[test]
    fn null_and_empty_lists_read_as_empty() {
        for yaml in [
            "clusters: null\nusers: null\ncontexts: null\n",
            "clusters: []\n",
            "",
            "# only a comment\n",
        ] {
            let k = kc(yaml);
            assert!(k.clusters.is_empty() && k.users.is_empty() && k.contexts.is_empty());
        }
    }

    #[test]
    fn a_parse_error_names_the_problem() {
        let err = Kubeconfig::from_yaml("clusters: {not: a list}").expect_err("bad shape");
        assert!(matches!(err, ConfigError::Parse { path: None, .. }));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn kubeconfig_lists_split_on_the_platform_separator_and_fall_back_to_home() {
        fn lookup<'a>(pairs: &'a [(&'a str, String)]) -> impl Fn(&str) -> Option<OsString> + 'a {
            move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into())
        }
        let sep = if cfg!(windows) { ";" } else { ":" };
        let home = ("HOME", "/home/me".to_string());
        let listed = [
            ("KUBECONFIG", format!("/a{sep}{sep}/b{sep}/a")),
            home.clone(),
        ];
        // Empty entries are dropped here; duplicates when reading.
        assert_eq!(
            default_paths(&lookup(&listed)),
            [
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/a")
            ]
        );
        if cfg!(not(windows)) {
            let empty = [("KUBECONFIG", String::new()), home];
            assert_eq!(
                default_paths(&lookup(&empty)),
                [PathBuf::from("/home/me/.kube/config")]
            );
        }
        assert!(default_paths(&lookup(&[])).is_empty());
    }

    #[test]
    fn plain_scalars_in_text_fields_stay_text() {
        let k = kc("
clusters:
- name: 0123
  cluster: {server: 'https://h', tls-server-name: 1.10}
contexts:
- name: yes
  context: {cluster: 0123, user: on, namespace: no}
users:
- name: on
  user:
    exec: {command: p, args: [--port, 8080, true]}
");
        assert_eq!(k.clusters[0].name, "0123");
        assert_eq!(
            k.clusters[0].cluster.tls_server_name.as_deref(),
            Some("1.10")
        );
        let ctx = &k.contexts[0];
        assert_eq!(ctx.name, "yes");
        assert_eq!(ctx.context.user.as_deref(), Some("on"));
        assert_eq!(ctx.context.namespace.as_deref(), Some("no"));
        let exec = k.users[0].user.exec.as_ref().expect("exec");
        assert_eq!(
            exec.args.as_deref(),
            Some(&["--port".to_string(), "8080".into(), "true".into()][..])
        );
        // Written back, they stay text.
        assert_eq!(kc(&k.to_yaml().expect("yaml")), k);
    }
}
