// Planar 4:2:0 Y'CbCr (three R8 textures) to R'G'B', drawn as one triangle covering the
// viewport. The colour matrix comes from Rust (`YuvMatrix::affine` in src/app/yuv.rs) as
// three affine rows over normalised [y, u, v, 1], so the CPU reference and this shader
// share one definition.

struct Params {
    rows: array<vec4<f32>, 3>,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var plane_y: texture_2d<f32>;
@group(0) @binding(2) var plane_u: texture_2d<f32>;
@group(0) @binding(3) var plane_v: texture_2d<f32>;
@group(0) @binding(4) var plane_sampler: sampler;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    // (0,0), (2,0), (0,2) in uv: one triangle whose inside covers the unit square.
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    var out: VertexOut;
    out.position = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

fn yuv_to_rgb(uv: vec2<f32>) -> vec3<f32> {
    let yuv1 = vec4<f32>(
        textureSample(plane_y, plane_sampler, uv).r,
        textureSample(plane_u, plane_sampler, uv).r,
        textureSample(plane_v, plane_sampler, uv).r,
        1.0,
    );
    let rgb = vec3<f32>(
        dot(params.rows[0], yuv1),
        dot(params.rows[1], yuv1),
        dot(params.rows[2], yuv1),
    );
    return clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0));
}

// For gamma-space framebuffers (Rgba8Unorm, Bgra8Unorm: what egui prefers): video R'G'B'
// is already gamma-encoded, so it is written as is.
@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(yuv_to_rgb(in.uv), 1.0);
}

// For sRGB framebuffers, which encode on write: decode first so the stored bytes match.
@fragment
fn fs_main_linear(in: VertexOut) -> @location(0) vec4<f32> {
    let c = yuv_to_rgb(in.uv);
    let cutoff = c <= vec3<f32>(0.04045);
    let lower = c / vec3<f32>(12.92);
    let higher = pow((c + vec3<f32>(0.055)) / vec3<f32>(1.055), vec3<f32>(2.4));
    return vec4<f32>(select(higher, lower, cutoff), 1.0);
}
