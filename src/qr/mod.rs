//! QR codes of short links (`GET /{slug}/qr`): the options a client may choose, checked by
//! their constructors, and the drawing of a code as PNG or SVG. The `qrcode` crate encodes;
//! this module only lays the modules out at the asked size, margin and colours.

mod options;
mod render;

pub use options::{Asked, EcLevel, Format, QrOptions, Rgb, MARGINS, SIZES};
pub use render::{render, Layout};
