//! TCP: [`TcpListener`] (and its [`ListenerBuilder`]), [`TcpStream`] and its owned halves.

mod builder;
mod incoming;
mod listener;
mod split;
mod stream;

pub use builder::ListenerBuilder;
pub use incoming::Incoming;
pub use listener::TcpListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf};
pub use stream::TcpStream;
