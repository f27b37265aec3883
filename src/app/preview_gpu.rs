//! Preview frames on the GPU: the three planes of a 4:2:0 frame uploaded as R8 textures and
//! converted to RGB by `shaders/yuv_to_rgb.wgsl`, drawn inside egui through a paint callback.
//! The pipeline and plane types are plain wgpu so tests can render them offscreen.

use std::sync::Arc;

use crate::media::VideoFrame;

use crate::preview::YuvMatrix;

/// The WGSL source of the conversion shader.
pub const YUV_TO_RGB_WGSL: &str = include_str!("../../shaders/yuv_to_rgb.wgsl");

/// Size of the shader's uniform: three rows of four `f32`.
const PARAMS_BYTES: u64 = 48;

/// The conversion pipeline for one render-target format.
pub struct YuvPipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
}

impl YuvPipeline {
    /// Builds the pipeline for `target` with `filter` sampling of the planes (linear for
    /// display; nearest reproduces the CPU reference exactly at native size). Fails with
    /// the validation message when the device rejects it.
    pub fn new(
        device: &wgpu::Device,
        target: wgpu::TextureFormat,
        filter: wgpu::FilterMode,
    ) -> Result<Self, String> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("beatcut_yuv_to_rgb"),
            source: wgpu::ShaderSource::Wgsl(YUV_TO_RGB_WGSL.into()),
        });
        let plane = |binding: u32| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                multisampled: false,
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("beatcut_yuv_layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(PARAMS_BYTES),
                    },
                    count: None,
                },
                plane(1),
                plane(2),
                plane(3),
                wgpu::BindGroupLayoutEntry {
                    binding: 4,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("beatcut_yuv_pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("beatcut_yuv_pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                buffers: &[],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some(if target.is_srgb() {
                    "fs_main_linear"
                } else {
                    "fs_main"
                }),
                targets: &[Some(wgpu::ColorTargetState {
                    format: target,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            }),
            multiview_mask: None,
            cache: None,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("beatcut_yuv_sampler"),
            mag_filter: filter,
            min_filter: filter,
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            ..Default::default()
        });
        if let Some(error) = poll_now(scope.pop()).flatten() {
            return Err(error.to_string());
        }
        Ok(Self {
            pipeline,
            layout,
            sampler,
        })
    }
}

/// Resolves a future that native wgpu completes immediately (error scopes); `None` if it
/// is still pending.
fn poll_now<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

/// GPU textures for one frame size: the Y, U and V planes and the matrix uniform.
pub struct YuvPlanes {
    size: (u32, u32),
    textures: [wgpu::Texture; 3],
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl YuvPlanes {
    /// Textures for `width`×`height` frames (chroma planes half size, rounded up).
    pub fn new(device: &wgpu::Device, pipeline: &YuvPipeline, width: u32, height: u32) -> Self {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let texture = |label: &str, w: u32, h: u32| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: w.max(1),
                    height: h.max(1),
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::R8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        };
        let textures = [
            texture("beatcut_plane_y", width, height),
            texture("beatcut_plane_u", cw, ch),
            texture("beatcut_plane_v", cw, ch),
        ];
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("beatcut_yuv_params"),
            size: PARAMS_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let views = textures
            .each_ref()
            .map(|t| t.create_view(&wgpu::TextureViewDescriptor::default()));
        let [view_y, view_u, view_v] = &views;
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("beatcut_yuv_bind_group"),
            layout: &pipeline.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(view_y),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(view_u),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(view_v),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: wgpu::BindingResource::Sampler(&pipeline.sampler),
                },
            ],
        });
        Self {
            size: (width, height),
            textures,
            params,
            bind_group,
        }
    }

    /// Frame size these textures hold.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Uploads a tightly packed 4:2:0 picture of this size and its matrix. Returns false
    /// (uploading nothing) when `data` is too short.
    pub fn upload(&self, queue: &wgpu::Queue, data: &[u8], matrix: YuvMatrix) -> bool {
        let (w, h) = self.size;
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let (luma, chroma) = ((w * h) as usize, (cw * ch) as usize);
        let (Some(y), Some(u), Some(v)) = (
            data.get(..luma),
            data.get(luma..luma + chroma),
            data.get(luma + chroma..luma + 2 * chroma),
        ) else {
            return false;
        };
        for (texture, bytes, pw, ph) in [
            (&self.textures[0], y, w, h),
            (&self.textures[1], u, cw, ch),
            (&self.textures[2], v, cw, ch),
        ] {
            queue.write_texture(
                texture.as_image_copy(),
                bytes,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(pw),
                    rows_per_image: Some(ph),
                },
                wgpu::Extent3d {
                    width: pw,
                    height: ph,
                    depth_or_array_layers: 1,
                },
            );
        }
        let rows = matrix.affine();
        queue.write_buffer(&self.params, 0, bytemuck::cast_slice(&rows));
        true
    }

    /// Draws the converted frame over the render pass's current viewport.
    pub fn draw(&self, pipeline: &YuvPipeline, pass: &mut wgpu::RenderPass<'_>) {
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// What the paint callback keeps in egui-wgpu's `callback_resources`.
pub struct PreviewGpuResources {
    pipeline: YuvPipeline,
    planes: Option<YuvPlanes>,
    uploaded: u64,
}

/// Installs the preview pipeline into the renderer of `render_state`. Fails (and the
/// preview keeps its CPU path) when the pipeline cannot be built.
pub fn install(render_state: &egui_wgpu::RenderState) -> Result<(), String> {
    let pipeline = YuvPipeline::new(
        &render_state.device,
        render_state.target_format,
        wgpu::FilterMode::Linear,
    )?;
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(PreviewGpuResources {
            pipeline,
            planes: None,
            uploaded: 0,
        });
    Ok(())
}

/// Paints one preview frame: uploads it if it is newer than the last upload, then draws.
pub struct PreviewCallback {
    /// The frame (planar 4:2:0).
    pub frame: Arc<VideoFrame>,
    /// Its colour matrix.
    pub matrix: YuvMatrix,
    /// Increases with every new frame, so an unchanged frame is not uploaded again.
    pub generation: u64,
}

impl egui_wgpu::CallbackTrait for PreviewCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(gpu) = resources.get_mut::<PreviewGpuResources>() else {
            return Vec::new();
        };
        if gpu.uploaded == self.generation && gpu.planes.is_some() {
            return Vec::new();
        }
        let size = (self.frame.width, self.frame.height);
        if gpu.planes.as_ref().is_none_or(|p| p.size() != size) {
            gpu.planes = Some(YuvPlanes::new(device, &gpu.pipeline, size.0, size.1));
        }
        if let Some(planes) = &gpu.planes
            && planes.upload(queue, &self.frame.data, self.matrix)
        {
            gpu.uploaded = self.generation;
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(gpu) = resources.get::<PreviewGpuResources>()
            && let Some(planes) = &gpu.planes
        {
            planes.draw(&gpu.pipeline, render_pass);
        }
    }
}
