//! Draws an encoded QR code: a PNG of exactly `size` pixels (whole pixels per module) or an
//! SVG `size` wide whose drawing is in modules (it scales without rounding).
//!
//! `qrcode`'s own renderers always add a 4-module quiet zone (or none) and size the image from
//! the module size, so neither the `margin` nor the exact `size` could be honoured with them;
//! the modules come from `qrcode`, only their placement is done here.

use std::fmt::Write as _;

use qrcode::{Color, QrCode};

use super::options::{Format, QrOptions};

/// Where the modules go in a PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The image's width and height in pixels.
    pub image: u32,
    /// Pixels per module.
    pub module: u32,
    /// Pixels before the first module, left and top (the margin and half the rounding).
    pub offset: u32,
}

impl Layout {
    /// `width` modules of code with `margin` light modules on each side in a `size` image: each
    /// module is `size / (width + 2 margin)` pixels (rounded down, at least one), the code is
    /// centred and the pixels left over widen the margin. Only when even one pixel per module
    /// does not fit is the image larger than `size`.
    pub fn of(width: u32, margin: u32, size: u32) -> Self {
        let modules = width + 2 * margin;
        let module = (size / modules).max(1);
        let image = size.max(modules);
        Self {
            image,
            module,
            offset: (image - width * module) / 2,
        }
    }
}

/// The code of `content` drawn as `options` asks.
pub fn render(content: &str, options: &QrOptions) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(content, options.ec.into())?;
    let width = u32::try_from(code.width())?;
    let dark = code.to_colors();
    match options.format {
        Format::Png => png(&dark, width, options),
        Format::Svg => Ok(svg(&dark, width, options).into_bytes()),
    }
}

/// A two-colour palette image, one bit per pixel (2000 × 2000 is 500 kB before compression).
fn png(modules: &[Color], width: u32, options: &QrOptions) -> anyhow::Result<Vec<u8>> {
    let layout = Layout::of(width, options.margin, options.size);
    let row_bytes = layout.image.div_ceil(8) as usize;
    let blank = vec![0u8; row_bytes];
    let mut pixels = Vec::with_capacity(row_bytes * layout.image as usize);
    let code_end = layout.offset + width * layout.module;
    for y in 0..layout.image {
        if y < layout.offset || y >= code_end {
            pixels.extend_from_slice(&blank);
            continue;
        }
        let module_row = ((y - layout.offset) / layout.module) as usize;
        let row = &modules[module_row * width as usize..][..width as usize];
        let mut bits = blank.clone();
        for (x, color) in row.iter().enumerate() {
            if *color == Color::Light {
                continue;
            }
            let start = layout.offset + x as u32 * layout.module;
            for px in start..start + layout.module {
                bits[(px / 8) as usize] |= 0x80 >> (px % 8);
            }
        }
        pixels.extend_from_slice(&bits);
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, layout.image, layout.image);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_palette([options.background.0, options.color.0].concat());
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(bytes)
}

/// One path of the dark runs of each row, in modules, over a background rectangle.
fn svg(modules: &[Color], width: u32, options: &QrOptions) -> String {
    let margin = options.margin;
    let total = width + 2 * margin;
    let mut path = String::new();
    for (y, row) in modules.chunks(width as usize).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            // Writing to a String cannot fail.
            let _ = write!(
                path,
                "M{} {}h{run}v1h-{run}z",
                x as u32 + margin,
                y as u32 + margin
            );
            x += run;
        }
    }
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{size}" height="{size}" "#,
            r#"viewBox="0 0 {total} {total}" shape-rendering="crispEdges">"#,
            r#"<rect width="{total}" height="{total}" fill="{background}"/>"#,
            r#"<path fill="{color}" d="{path}"/></svg>"#,
            "\n"
        ),
        size = options.size,
        total = total,
        background = options.background,
        color = options.color,
        path = path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::options::Rgb;

    #[test]
    fn modules_are_whole_pixels_and_the_rest_widens_the_margin() {
        // 25 modules + 2 × 4 = 33: 300 / 33 = 9 px a module, 297 px of code and margin.
        assert_eq!(
            Layout::of(25, 4, 300),
            Layout {
                image: 300,
                module: 9,
                offset: (300 - 25 * 9) / 2
            }
        );
        assert_eq!(Layout::of(25, 0, 50).module, 2);
        // Too small for one pixel a module: one pixel a module, the image as large as needed.
        assert_eq!(
            Layout::of(57, 20, 50),
            Layout {
                image: 97,
                module: 1,
                offset: 20
            }
        );
    }

    #[test]
    fn a_png_is_the_asked_size_with_the_asked_palette() {
        let options = QrOptions {
            size: 123,
            color: Rgb([0x11, 0x22, 0x33]),
            ..QrOptions::default()
        };
        let bytes = render("http://127.0.0.1:8080/abc", &options).unwrap();
        let decoder = png::Decoder::new(bytes.as_slice());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (123, 123));
        assert_eq!(
            info.palette.as_deref(),
            Some(&[0xff, 0xff, 0xff, 0x11, 0x22, 0x33][..])
        );
    }

    #[test]
    fn an_svg_is_the_asked_size_drawn_in_modules() {
        let options = QrOptions {
            format: Format::Svg,
            size: 640,
            margin: 2,
            background: Rgb([0xfe, 0xdc, 0xba]),
            ..QrOptions::default()
        };
        let svg = String::from_utf8(render("http://x.test/a", &options).unwrap()).unwrap();
        // 15 bytes at level M: version 2, 25 modules, and 2 × 2 of margin.
        assert!(
            svg.contains(r#"width="640" height="640" viewBox="0 0 29 29""#),
            "{svg}"
        );
        assert!(svg.contains(r##"fill="#fedcba""##));
        // The finder pattern's top row: seven dark modules from the margin on.
        assert!(svg.contains(r##"fill="#000000" d="M2 2h7v1h-7z"##), "{svg}");
    }

    #[test]
    fn the_same_options_draw_the_same_bytes() {
        let options = QrOptions::default();
        assert_eq!(
            render("http://x.test/a", &options).unwrap(),
            render("http://x.test/a", &options).unwrap()
        );
        assert_ne!(
            render("http://x.test/a", &options).unwrap(),
            render("http://x.test/b", &options).unwrap()
        );
    }
}
