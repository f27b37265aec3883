//! YUV → RGB conversion for the preview: the one place the colour matrices live. The GPU
//! shader (`shaders/yuv_to_rgb.wgsl`) receives [`YuvMatrix::affine`] as its uniform, and
//! [`yuv420p_to_rgba`] is the CPU reference (and the fallback when there is no GPU), so the
//! two paths cannot drift apart.

/// Source resolutions at or above this height (or width 1280) are taken as HD (BT.709);
/// smaller ones as SD (BT.601), as players do for untagged streams.
const HD_MIN_HEIGHT: u32 = 720;
/// Width that also marks a stream as HD (1280×536 scope films and the like).
const HD_MIN_WIDTH: u32 = 1280;

/// The colour matrix used to turn Y'CbCr into R'G'B'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvMatrix {
    /// ITU-R BT.601 (SD video).
    Bt601,
    /// ITU-R BT.709 (HD video).
    Bt709,
}

impl YuvMatrix {
    /// The matrix for an untagged stream of this coded size: BT.709 for HD, BT.601 for SD.
    pub fn for_resolution(width: u32, height: u32) -> Self {
        if height >= HD_MIN_HEIGHT || width >= HD_MIN_WIDTH {
            Self::Bt709
        } else {
            Self::Bt601
        }
    }

    /// Luma weights (Kr, Kb) of the matrix.
    fn weights(self) -> (f64, f64) {
        match self {
            Self::Bt601 => (0.299, 0.114),
            Self::Bt709 => (0.2126, 0.0722),
        }
    }

    /// Rows of the affine map from normalised limited-range samples `[y, u, v, 1]` (each
    /// sample / 255, as a unorm texture returns it) to R'G'B' in `0..=1` (before clamping).
    /// The shader takes these three rows as its uniform.
    pub fn affine(self) -> [[f32; 4]; 3] {
        let (kr, kb) = self.weights();
        let kg = 1.0 - kr - kb;
        // Limited range: luma spans 16..=235, chroma 16..=240 around 128.
        let y_scale = 255.0 / 219.0;
        let c_scale = 255.0 / 224.0;
        let y_off = 16.0 / 255.0;
        let c_off = 128.0 / 255.0;
        let r_v = 2.0 * (1.0 - kr) * c_scale;
        let b_u = 2.0 * (1.0 - kb) * c_scale;
        let g_u = -2.0 * kb * (1.0 - kb) / kg * c_scale;
        let g_v = -2.0 * kr * (1.0 - kr) / kg * c_scale;
        let row = |u: f64, v: f64| -> [f32; 4] {
            [
                y_scale as f32,
                u as f32,
                v as f32,
                (-y_scale * y_off - u * c_off - v * c_off) as f32,
            ]
        };
        [row(0.0, r_v), row(g_u, g_v), row(b_u, 0.0)]
    }
}

/// Converts one limited-range Y'CbCr sample to 8-bit R'G'B' (the CPU reference).
pub fn yuv_to_rgb(y: u8, u: u8, v: u8, matrix: YuvMatrix) -> [u8; 3] {
    let m = matrix.affine();
    let input = [
        f32::from(y) / 255.0,
        f32::from(u) / 255.0,
        f32::from(v) / 255.0,
        1.0,
    ];
    m.map(|row| {
        let value: f32 = row.iter().zip(input).map(|(a, b)| a * b).sum();
        (value.clamp(0.0, 1.0) * 255.0).round() as u8
    })
}

/// Converts a tightly packed planar 4:2:0 picture (Y, then U, then V, chroma planes
/// `ceil(w/2)×ceil(h/2)`) to packed RGBA with opaque alpha. Returns `None` when `data` is
/// shorter than the picture.
pub fn yuv420p_to_rgba(data: &[u8], width: u32, height: u32, matrix: YuvMatrix) -> Option<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let y_plane = data.get(..w * h)?;
    let u_plane = data.get(w * h..w * h + cw * ch)?;
    let v_plane = data.get(w * h + cw * ch..w * h + 2 * cw * ch)?;
    // Integer form of the same matrix (16.16 fixed point): the fallback converts a whole
    // frame per update on the UI side, so it should be cheap.
    let m = matrix.affine();
    // Inputs are 0..=255 rather than 0..=1, so only the constant term needs the factor 255.
    let fixed = m.map(|row| {
        [
            (f64::from(row[0]) * 65_536.0).round() as i64,
            (f64::from(row[1]) * 65_536.0).round() as i64,
            (f64::from(row[2]) * 65_536.0).round() as i64,
            (f64::from(row[3]) * 255.0 * 65_536.0).round() as i64,
        ]
    });
    let mut out = vec![255u8; w * h * 4];
    for (row, (y_row, out_row)) in y_plane
        .chunks_exact(w.max(1))
        .zip(out.chunks_exact_mut(w.max(1) * 4))
        .enumerate()
    {
        let c_start = (row / 2) * cw;
        let (Some(u_row), Some(v_row)) = (
            u_plane.get(c_start..c_start + cw),
            v_plane.get(c_start..c_start + cw),
        ) else {
            return None;
        };
        for (col, (&y, px)) in y_row.iter().zip(out_row.chunks_exact_mut(4)).enumerate() {
            let (u, v) = (
                u_row.get(col / 2).copied().unwrap_or(128),
                v_row.get(col / 2).copied().unwrap_or(128),
            );
            let input = [i64::from(y), i64::from(u), i64::from(v)];
            for (channel, coeffs) in px.iter_mut().zip(&fixed) {
                let sum = coeffs[0] * input[0] + coeffs[1] * input[1] + coeffs[2] * input[2];
                let value = (sum + coeffs[3] + 32_768) >> 16;
                *channel = value.clamp(0, 255) as u8;
            }
        }
    }
    Some(out)
}
