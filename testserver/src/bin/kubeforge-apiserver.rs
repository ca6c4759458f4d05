//! `kubeforge-apiserver`: parse flags, build the config, serve until SIGINT/SIGTERM.

use clap::Parser;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kubeforge_testserver::options::Options;
use tokio::net::TcpListener;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let opts = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&opts.log)?)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(opts))
}

async fn serve(opts: Options) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = TcpListener::bind((opts.bind_address, opts.secure_port)).await?;
    let port = listener.local_addr()?.port();
    let scheme = if opts.plain_http { "http" } else { "https" };
    let host = opts.advertised_host();
    let config = opts.into_config()?;
    let url = format!("{scheme}://{host}:{port}");
    if let Some(path) = &config.kubeconfig_path {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(
            path,
            kubeforge_testserver::kubeconfig(&url, config.tls.as_ref()),
        )?;
        tracing::info!(kubeconfig = %path.display(), "admin kubeconfig written");
        println!("kubeconfig: {}", path.display());
        println!(
            "try: kubectl --kubeconfig {} get namespaces",
            path.display()
        );
    }
    tracing::info!(%url, "serving the Kubernetes API (every request is served as a cluster admin)");
    kubeforge_testserver::run(listener, config, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}
