//! Hosting (Vercel): projects, environment variables, deployments and project domains.
//! Ownership is the gateway's: these calls take provider ids the gateway has checked.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Result;

/// A project to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSpec {
    /// Name (unique in the operator's team).
    pub name: String,
    /// Framework preset, e.g. `nextjs`.
    pub framework: Option<String>,
}

/// A project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// The provider's id (`prj_…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// The provider's own object, with secrets removed.
    pub raw: serde_json::Value,
}

/// An environment variable to add. The value is secret: it never appears in `Debug` or logs.
#[derive(Clone, Debug)]
pub struct EnvVarSpec {
    /// Key.
    pub key: String,
    /// Value.
    pub value: SecretString,
    /// Targets: `production`, `preview`, `development`.
    pub targets: Vec<String>,
}

/// An environment variable (without its value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// The provider's id.
    pub id: String,
    /// Key.
    pub key: String,
    /// Targets.
    pub targets: Vec<String>,
}

/// A file of an inline deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentFile {
    /// Path relative to the project root.
    pub file: String,
    /// UTF-8 content.
    pub data: String,
}

/// A deployment to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentSpec {
    /// Deployment name.
    pub name: String,
    /// The project id.
    pub project_id: String,
    /// `production` or `preview` (`None`: preview).
    pub target: Option<String>,
    /// Inline files.
    pub files: Vec<DeploymentFile>,
}

/// A deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The provider's id (`dpl_…`).
    pub id: String,
    /// Public URL (without scheme, as Vercel reports it).
    pub url: Option<String>,
    /// Ready state: `QUEUED`, `BUILDING`, `READY`, `ERROR`, `CANCELED`.
    pub state: String,
    /// The project id.
    pub project_id: Option<String>,
    /// Target.
    pub target: Option<String>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
}

/// Filter for listing deployments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentFilter {
    /// Only this project's.
    pub project_id: Option<String>,
    /// At most this many (1–100).
    pub limit: Option<u32>,
    /// Only in this state.
    pub state: Option<String>,
    /// Only with this target.
    pub target: Option<String>,
}

/// A domain attached to a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDomain {
    /// The domain name.
    pub name: String,
    /// Whether the domain is verified.
    pub verified: bool,
}

/// Projects, environment variables, deployments and project domains.
#[async_trait]
pub trait Hosting: Send + Sync {
    /// Creates a project.
    async fn create_project(&self, spec: &ProjectSpec) -> Result<Project>;
    /// Gets a project by id.
    async fn get_project(&self, id: &str) -> Result<Project>;
    /// Deletes a project.
    async fn delete_project(&self, id: &str) -> Result<()>;
    /// Adds an environment variable to a project.
    async fn add_env_var(&self, project_id: &str, spec: &EnvVarSpec) -> Result<EnvVar>;
    /// Creates a deployment.
    async fn create_deployment(&self, spec: &DeploymentSpec) -> Result<Deployment>;
    /// Lists deployments.
    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Vec<Deployment>>;
    /// Attaches a domain to a project.
    async fn add_project_domain(&self, project_id: &str, domain: &str) -> Result<ProjectDomain>;
}
