//! Preview frames without a GUI: the frame server (decode, cache, seek proxies), the YUV
//! colour conversion shared with the GPU shader, the seek-proxy worker and the decode
//! thread the editor's viewer talks to. `src/app` only puts the frames on screen.

pub mod frame_server;
mod player;
mod proxy;
pub mod yuv;

pub use frame_server::{FrameServer, FrameServerOptions, ServedFrame};
pub use player::{PreviewFrame, PreviewPlayer, PreviewRequest};
pub use yuv::YuvMatrix;
