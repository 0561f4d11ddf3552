//! Enrollment codes as QR images, so a field worker points the phone at the coordinator's
//! screen instead of typing sixteen symbols (as ODK Collect and KoboCollect enroll). The image
//! is SVG made here, on the server: no image library on either side, and a page can put it in
//! its DOM as it is, under the Content-Security-Policy that refuses `data:` images.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::{ApiError, Result};

/// The QR code of `text` as an SVG element (no XML declaration), black on white with the
/// quiet zone scanners need, at least 256 px wide. Level M survives a smudged or glaring
/// screen; an enrollment code is alphanumeric and short, so the code stays small (25x25).
pub fn svg(text: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("cannot make a QR code: {e}")))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_enrollment_code_makes_a_small_svg() {
        let image = super::svg("K7PQ-4MZX-ABCD-EFGH").expect("svg");
        assert!(image.starts_with("<svg"), "{image}");
        assert!(image.ends_with("</svg>"), "{image}");
        assert!(image.len() < 8_000, "{} bytes", image.len());
    }
}
