//! A real S3-protocol server on loopback for the Hive metastore tests: s3s over a temporary
//! folder, checking request signatures against one access key, so wrong credentials fail as
//! they would against S3.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::task::JoinHandle;

pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    _root: tempfile::TempDir,
    task: JoinHandle<()>,
}

impl S3Server {
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("a folder for the buckets");
        let bucket = "zuora-staging".to_string();
        std::fs::create_dir(root.path().join(&bucket)).expect("the bucket folder");
        let (access_key, secret_key) = (
            "AKIATESTZUORASYNC".to_string(),
            "s3cr3t/key+test".to_string(),
        );

        let store = s3s_fs::FileSystem::new(root.path()).expect("a file-system S3");
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(
            access_key.clone(),
            secret_key.clone(),
        ));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            bucket,
            access_key,
            secret_key,
            _root: root,
            task,
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
