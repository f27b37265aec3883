//! The preview path: the CPU reference YUV→RGB conversion against known colours, the WGSL
//! shader rendered headlessly on wgpu against that reference, and the frame server (right
//! frame for a time, cache hits, look-ahead), and seek proxies (generation, exact frames
//! served from them, cancellation, corrupt sources).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "gui")]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use beatcut::app::preview_gpu::{YuvPipeline, YuvPlanes};
use beatcut::cache::ContentKey;
use beatcut::jobs::{CancelToken, JobContext};
use beatcut::media::{
    MediaError, PixelLayout, ProxySettings, ProxyStore, VideoDecodeOptions, VideoDecoder,
};
use beatcut::preview::frame_server::{FrameServer, FrameServerOptions};
use beatcut::preview::yuv::{YuvMatrix, yuv_to_rgb, yuv420p_to_rgba};
use beatcut::time::TICKS_PER_SECOND;

#[test]
fn reference_conversion_hits_known_colours() {
    for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709] {
        assert_eq!(yuv_to_rgb(16, 128, 128, matrix), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128, matrix), [255, 255, 255]);
        assert_eq!(yuv_to_rgb(126, 128, 128, matrix), [128, 128, 128]);
    }
    // 75 % colour bars as the standards tabulate them (limited range).
    let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 1);
    assert!(close(
        yuv_to_rgb(65, 100, 212, YuvMatrix::Bt601),
        [191, 0, 0]
    ));
    assert!(close(
        yuv_to_rgb(51, 109, 212, YuvMatrix::Bt709),
        [191, 0, 0]
    ));
    assert!(close(
        yuv_to_rgb(112, 72, 58, YuvMatrix::Bt601),
        [0, 191, 0]
    ));
    assert!(close(
        yuv_to_rgb(133, 63, 52, YuvMatrix::Bt709),
        [0, 191, 0]
    ));
    assert!(close(
        yuv_to_rgb(35, 212, 114, YuvMatrix::Bt601),
        [0, 0, 191]
    ));
    assert!(close(
        yuv_to_rgb(28, 212, 120, YuvMatrix::Bt709),
        [0, 0, 191]
    ));
    // Below black and above white clamp.
    assert_eq!(yuv_to_rgb(0, 128, 128, YuvMatrix::Bt709), [0, 0, 0]);
    assert_eq!(yuv_to_rgb(255, 128, 128, YuvMatrix::Bt709), [255, 255, 255]);

    assert_eq!(YuvMatrix::for_resolution(640, 480), YuvMatrix::Bt601);
    assert_eq!(YuvMatrix::for_resolution(720, 576), YuvMatrix::Bt601);
    assert_eq!(YuvMatrix::for_resolution(1280, 720), YuvMatrix::Bt709);
    assert_eq!(YuvMatrix::for_resolution(1920, 1080), YuvMatrix::Bt709);
    assert_eq!(YuvMatrix::for_resolution(1080, 1920), YuvMatrix::Bt709);
}

/// A 4:2:0 test picture sweeping every channel: luma across x and y, chroma in a pattern
/// that visits most of the 8-bit range, including values outside the legal range.
fn test_picture(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut data = Vec::with_capacity(w * h + 2 * cw * ch);
    for y in 0..h {
        for x in 0..w {
            data.push(((x * 4 + y * 7) % 256) as u8);
        }
    }
    for y in 0..ch {
        for x in 0..cw {
            data.push(((x * 8 + y * 3) % 256) as u8);
        }
    }
    for y in 0..ch {
        for x in 0..cw {
            data.push(((x * 5 + y * 11 + 40) % 256) as u8);
        }
    }
    data
}

#[test]
fn fixed_point_frame_conversion_matches_the_reference() {
    let (w, h) = (64, 32);
    let data = test_picture(w, h);
    for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709] {
        let rgba = yuv420p_to_rgba(&data, w, h, matrix).expect("whole picture");
        let (cw, ch) = ((w / 2) as usize, (h / 2) as usize);
        let (luma, chroma) = ((w * h) as usize, cw * ch);
        for y in 0..h as usize {
            for x in 0..w as usize {
                let c = (y / 2) * cw + x / 2;
                let expected = yuv_to_rgb(
                    data[y * w as usize + x],
                    data[luma + c],
                    data[luma + chroma + c],
                    matrix,
                );
                let px = &rgba[(y * w as usize + x) * 4..][..4];
                for i in 0..3 {
                    assert!(
                        px[i].abs_diff(expected[i]) <= 1,
                        "{matrix:?} at ({x},{y}): {px:?} vs {expected:?}"
                    );
                }
                assert_eq!(px[3], 255);
            }
        }
        assert!(yuv420p_to_rgba(&data[..100], w, h, matrix).is_none());
    }
}

/// Minimal executor for wgpu's futures (no async runtime in the tests).
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(value) => return value,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[test]
fn shader_matches_the_cpu_reference() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = match block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::LowPower,
        force_fallback_adapter: false,
        compatible_surface: None,
        apply_limit_buckets: false,
    })) {
        Ok(adapter) => adapter,
        Err(e) => {
            common::skip_or_fail(
                "shader_matches_the_cpu_reference",
                &format!("a wgpu adapter ({e})"),
                "make deps installs mesa-vulkan-drivers: lavapipe, Vulkan on the CPU",
            );
            return;
        }
    };
    eprintln!("rendering on {:?}", adapter.get_info().name);
    let (device, queue) =
        block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).expect("device");
    // 64 RGBA pixels make a 256-byte row, the copy alignment wgpu asks for.
    let (w, h) = (64u32, 48u32);
    let data = test_picture(w, h);
    let format = wgpu::TextureFormat::Rgba8Unorm;
    // Nearest sampling at native size reads exactly the texel the CPU reference reads.
    let pipeline = YuvPipeline::new(&device, format, wgpu::FilterMode::Nearest).expect("pipeline");
    let planes = YuvPlanes::new(&device, &pipeline, w, h);
    let target = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("target"),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = target.create_view(&wgpu::TextureViewDescriptor::default());
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: u64::from(w * h * 4),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709] {
        assert!(planes.upload(&queue, &data, matrix));
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("yuv"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::RED),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            planes.draw(&pipeline, &mut pass);
        }
        encoder.copy_texture_to_buffer(
            target.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(w * 4),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        queue.submit([encoder.finish()]);
        let slice = readback.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("poll");
        rx.recv().expect("mapped").expect("map ok");
        let gpu = slice.get_mapped_range().expect("mapped range").to_vec();
        readback.unmap();

        let cpu = yuv420p_to_rgba(&data, w, h, matrix).expect("reference");
        let (cw, luma, chroma) = ((w / 2) as usize, (w * h) as usize, (w * h / 4) as usize);
        // Nearest sampling reads the texel the CPU reads; the shader's float arithmetic may
        // round a channel the other way than the exact conversion (at most 1/255), and the
        // CPU's fixed-point reference, which rounds too, by as much.
        let (mut off_exact, mut off_cpu) = (0u8, 0u8);
        for y in 0..h as usize {
            for x in 0..w as usize {
                let c = (y / 2) * cw + x / 2;
                let exact = yuv_to_rgb(
                    data[y * w as usize + x],
                    data[luma + c],
                    data[luma + chroma + c],
                    matrix,
                );
                let i = (y * w as usize + x) * 4;
                for ch in 0..3 {
                    off_exact = off_exact.max(gpu[i + ch].abs_diff(exact[ch]));
                    off_cpu = off_cpu.max(gpu[i + ch].abs_diff(cpu[i + ch]));
                }
                assert_eq!(gpu[i + 3], 255);
            }
        }
        eprintln!(
            "{matrix:?}: GPU vs exact conversion {off_exact}/255, vs CPU reference {off_cpu}/255"
        );
        assert!(
            off_exact <= 1,
            "{matrix:?}: GPU differs from the exact conversion by {off_exact}/255"
        );
        assert!(
            off_cpu <= 1,
            "{matrix:?}: GPU differs from the CPU reference by {off_cpu}/255"
        );
    }
}

/// Reads the frame index of an `indexed_clip` frame from the Y plane of a 4:2:0 frame.
fn index_of_yuv(data: &[u8], width: usize, height: usize) -> u32 {
    let row = height / 2;
    let at = |x: usize| data[row * width + x] as f32;
    let low = ((at(width / 4) - 20.0) / 13.0).round().max(0.0) as u32;
    let high = ((at(3 * width / 4) - 20.0) / 13.0).round().max(0.0) as u32;
    high * 16 + low
}

#[test]
fn frame_server_serves_the_frame_under_the_time_and_caches() {
    let dir = common::temp_dir();
    // 25 fps, keyframe every 50 frames: seeks decode forward inside a GOP.
    let clip = common::indexed_clip(
        dir.path(),
        "indexed.mp4",
        25,
        150,
        &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-g",
            "50",
            "-sc_threshold",
            "0",
            "-bf",
            "2",
        ],
    );
    let options = FrameServerOptions {
        box_size: (160, 96),
        frames_per_clip: 32,
        ..Default::default()
    };
    let mut server = FrameServer::new(options.clone());
    let frame_ticks = TICKS_PER_SECOND / 25;
    let index_at = |server: &mut FrameServer, frame: i64, offset: i64| {
        let served = server
            .frame_at(&clip, frame * frame_ticks + offset)
            .expect("decode")
            .expect("a frame");
        assert_eq!(served.frame.layout, PixelLayout::Yuv420p);
        assert_eq!(served.matrix, YuvMatrix::Bt601, "160x96 is SD");
        (
            index_of_yuv(&served.frame.data, 160, 96),
            served.cached,
            served.frame.time,
        )
    };
    // Random order (seeks), small steps forward (decode forward), and revisits (cache).
    for &(frame, offset) in &[
        (70, 0),
        (71, frame_ticks / 2),
        (75, 1),
        (10, 0),
        (0, 0),
        (149, 0),
        (99, frame_ticks * 9 / 10),
        (100, 0),
        (49, 0),
    ] {
        let (index, _, time) = index_at(&mut server, frame, offset);
        assert_eq!(index as i64, frame, "frame at {frame} (+{offset} ticks)");
        assert!(time <= frame * frame_ticks + offset);
    }
    for &frame in &[70, 71, 75, 99, 100] {
        let _ = index_at(&mut server, frame, 0);
    }
    let before = server.stats();
    for &frame in &[70, 71, 75, 99, 100, 75] {
        let (index, cached, _) = index_at(&mut server, frame, 0);
        assert_eq!(index as i64, frame);
        assert!(cached, "frame {frame} comes from the cache on a revisit");
    }
    assert_eq!(server.stats().hits, before.hits + 6);

    // Look-ahead: frames after the last request are decoded while idle, then served cached.
    let _ = index_at(&mut server, 20, 0);
    for _ in 0..5 {
        assert!(server.prefetch(&clip).expect("prefetch"));
    }
    for frame in 21..=25 {
        let (index, cached, _) = index_at(&mut server, frame, 0);
        assert_eq!(index as i64, frame);
        assert!(cached, "frame {frame} was decoded ahead");
    }

    // The per-clip limit holds.
    for frame in 30..140 {
        let _ = index_at(&mut server, frame, 0);
    }
    let stats = server.stats();
    assert!(
        stats.cached_bytes <= 32 * 160 * 96 * 3 / 2,
        "{} bytes cached",
        stats.cached_bytes
    );

    // A seek keeps the frames just before the target (back to the keyframe at 100, at most
    // half the clip's cache): scrubbing back from it is cached.
    let mut server = FrameServer::new(options.clone());
    let (index, cached, _) = index_at(&mut server, 120, 0);
    assert_eq!((index, cached), (120, false));
    for frame in (106..120).rev() {
        let (index, cached, _) = index_at(&mut server, frame, 0);
        assert_eq!(index as i64, frame);
        assert!(cached, "frame {frame} was kept by the seek to 120");
    }

    // Every frame, in a scrambled order, from a fresh server.
    let mut server = FrameServer::new(options);
    for i in 0..150i64 {
        let frame = (i * 67) % 150;
        let (index, _, _) = index_at(&mut server, frame, frame_ticks / 3);
        assert_eq!(index as i64, frame, "scrambled request {i}");
    }

    // Same frames as a fresh decoder's exact seek.
    let mut decoder = VideoDecoder::open(
        &clip,
        VideoDecodeOptions {
            width: 160,
            height: 96,
            layout: PixelLayout::Yuv420p,
            ..Default::default()
        },
    )
    .expect("open");
    for frame in [3i64, 64, 120] {
        let reference = decoder
            .seek_exact(frame * frame_ticks)
            .expect("seek")
            .expect("frame");
        let served = server
            .frame_at(&clip, frame * frame_ticks)
            .expect("decode")
            .expect("frame");
        assert_eq!(served.frame.time, reference.time);
        assert_eq!(served.frame.data, reference.data);
    }
}

/// A long-GOP (`-g 250`) indexed clip with B-frames, as cameras and phones write them.
fn long_gop_clip(dir: &std::path::Path, frames: u32) -> std::path::PathBuf {
    common::indexed_clip(
        dir,
        "long-gop.mp4",
        25,
        frames,
        &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-g",
            "250",
            "-keyint_min",
            "250",
            "-sc_threshold",
            "0",
            "-bf",
            "3",
        ],
    )
}

fn proxy_store(dir: &std::path::Path) -> ProxyStore {
    ProxyStore::new(
        dir.join("proxies"),
        ProxySettings {
            // The clip is 160x96: a smaller box makes the proxy really scale down.
            box_size: (80, 48),
            // Near-lossless so the index encoding survives the proxy's compression.
            crf: 4,
            ..Default::default()
        },
    )
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn proxy_serves_the_exact_source_frame_then_refines() {
    let dir = common::temp_dir();
    let clip = long_gop_clip(dir.path(), 300);
    let store = proxy_store(dir.path());
    let key = ContentKey::from_path(&clip).expect("key");
    assert!(store.find(&key).is_none());
    let ctx = JobContext::detached("proxy", CancelToken::new(), |_| {});
    let proxy = store.generate(&clip, &key, &ctx, None).expect("proxy");
    assert_eq!((proxy.index.width, proxy.index.height), (80, 48));
    assert_eq!(proxy.index.source_times.len(), 300);
    let frame_ticks = TICKS_PER_SECOND / 25;
    for (i, &t) in proxy.index.source_times.iter().enumerate() {
        assert_eq!(t, i as i64 * frame_ticks, "source time of proxy frame {i}");
    }
    // Found again by content: a copy under another name hits the same proxy.
    let copy = dir.path().join("renamed.mp4");
    std::fs::copy(&clip, &copy).expect("copy");
    let found = store
        .find(&ContentKey::from_path(&copy).expect("key"))
        .expect("found by content key");
    assert_eq!(found.index, proxy.index);

    // Every proxy frame is a keyframe and shows its source frame (read from the raw luma:
    // frames from 272 on are brighter than limited-range white, which Gray8 clips).
    let mut decoder = VideoDecoder::open(
        &proxy.video,
        VideoDecodeOptions {
            layout: PixelLayout::Yuv420p,
            ..Default::default()
        },
    )
    .expect("open proxy");
    let mut count = 0;
    while let Some(frame) = decoder.next_frame().expect("decode proxy") {
        assert!(frame.key, "proxy frame {count} is a keyframe");
        assert_eq!(
            index_of_yuv(&frame.data, 80, 48),
            count,
            "proxy frame {count} shows source frame {count}"
        );
        count += 1;
    }
    assert_eq!(count, 300);

    let mut server = FrameServer::new(FrameServerOptions {
        box_size: (160, 96),
        ..Default::default()
    });
    server.set_proxy(&clip, proxy);
    assert!(server.has_proxy(&clip));
    // Far apart: each a seek at full resolution, unless an earlier refine cached it.
    let mut from_proxy = 0;
    for &frame in &[237i64, 12, 299, 150, 90, 240, 60, 3] {
        let t = frame * frame_ticks + frame_ticks / 3;
        let served = server
            .quick_frame_at(&clip, t)
            .expect("serve")
            .expect("a frame");
        assert_eq!(
            index_of_yuv(
                &served.frame.data,
                served.frame.width as usize,
                served.frame.height as usize
            ) as i64,
            frame
        );
        if served.cached {
            continue;
        }
        assert!(served.proxy, "frame {frame} comes from the proxy");
        from_proxy += 1;
        assert_eq!((served.frame.width, served.frame.height), (80, 48));
        assert_eq!(
            served.frame.time,
            frame * frame_ticks,
            "source time of {frame}"
        );
        assert_eq!(
            index_of_yuv(&served.frame.data, 80, 48) as i64,
            frame,
            "proxy frame for {frame}"
        );
        // The refine: the same frame at full resolution.
        let sharp = server
            .frame_at_cancellable(&clip, t, &CancelToken::new())
            .expect("refine")
            .expect("a frame");
        assert!(!sharp.proxy);
        assert_eq!((sharp.frame.width, sharp.frame.height), (160, 96));
        assert_eq!(sharp.frame.time, frame * frame_ticks);
        assert_eq!(index_of_yuv(&sharp.frame.data, 160, 96) as i64, frame);
        // Now cached at full resolution: the quick path serves the sharp one.
        let again = server
            .quick_frame_at(&clip, t)
            .expect("serve")
            .expect("a frame");
        assert!(again.cached && !again.proxy);
    }
    // A playback step right after the sharp frame decodes forward at full resolution.
    let next = server
        .quick_frame_at(&clip, 4 * frame_ticks)
        .expect("serve")
        .expect("a frame");
    assert!(!next.proxy);
    assert_eq!(index_of_yuv(&next.frame.data, 160, 96), 4);
    assert!(from_proxy >= 6, "{from_proxy} frames from the proxy");
    assert_eq!(server.stats().proxied, from_proxy);

    // A cancelled refine gives up and leaves the server usable.
    let cancelled = CancelToken::new();
    cancelled.cancel();
    assert!(matches!(
        server.frame_at_cancellable(&clip, 200 * frame_ticks, &cancelled),
        Err(MediaError::Cancelled)
    ));
    let served = server
        .frame_at(&clip, 200 * frame_ticks)
        .expect("decode")
        .expect("a frame");
    assert_eq!(index_of_yuv(&served.frame.data, 160, 96), 200);
}

#[test]
fn long_gop_seeks_are_exact_without_proxies() {
    // Seeks far into a long GOP drop non-reference frames on the way: the frames served
    // must still be exactly the ones asked for, as a fresh decoder's exact seek finds them.
    let dir = common::temp_dir();
    let clip = long_gop_clip(dir.path(), 300);
    let frame_ticks = TICKS_PER_SECOND / 25;
    let mut server = FrameServer::new(FrameServerOptions {
        box_size: (160, 96),
        frames_per_clip: 16,
        ..Default::default()
    });
    for i in 0..60i64 {
        let frame = (i * 97 + 13) % 300;
        let served = server
            .frame_at(&clip, frame * frame_ticks + frame_ticks / 2)
            .expect("decode")
            .expect("a frame");
        assert_eq!(
            index_of_yuv(&served.frame.data, 160, 96) as i64,
            frame,
            "request {i}"
        );
        assert_eq!(served.frame.time, frame * frame_ticks);
    }
}

#[test]
fn cancelled_proxy_leaves_no_file() {
    let dir = common::temp_dir();
    let clip = long_gop_clip(dir.path(), 300);
    let store = proxy_store(dir.path());
    let key = ContentKey::from_path(&clip).expect("key");
    let token = CancelToken::new();
    let cancel_at_frame = token.clone();
    // Cancelled a third of the way through, from the progress report.
    let ctx = JobContext::detached("proxy", token, move |p| {
        if p.done >= 100 {
            cancel_at_frame.cancel();
        }
    });
    let result = store.generate(&clip, &key, &ctx, None);
    assert!(matches!(result, Err(MediaError::Cancelled)), "{result:?}");
    assert!(store.find(&key).is_none());
    assert_eq!(
        files_in(store.dir()),
        Vec::<String>::new(),
        "no partial file"
    );
}

#[test]
fn corrupt_source_makes_no_proxy() {
    let dir = common::temp_dir();
    let store = proxy_store(dir.path());
    let ctx = JobContext::detached("proxy", CancelToken::new(), |_| {});
    // Garbage bytes, and a clip cut short before its index (moov at the end).
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, vec![0x5au8; 64 * 1024]).expect("write");
    let whole = common::indexed_clip(
        dir.path(),
        "whole.mp4",
        25,
        100,
        &["-c:v", "libx264", "-qp", "0", "-g", "250"],
    );
    let bytes = std::fs::read(&whole).expect("read");
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    for source in [&garbage, &truncated] {
        let key = ContentKey::from_path(source).expect("key");
        let result = store.generate(source, &key, &ctx, None);
        assert!(result.is_err(), "{}: {result:?}", source.display());
        assert!(store.find(&key).is_none());
    }
    assert_eq!(files_in(store.dir()), Vec::<String>::new(), "no file left");
    // A damaged index is taken as no proxy, not a panic.
    let key = ContentKey::from_path(&whole).expect("key");
    let proxy = store.generate(&whole, &key, &ctx, None).expect("proxy");
    let (_, index_path) = store.paths(&key);
    std::fs::write(&index_path, b"not msgpack").expect("write");
    assert!(store.find(&key).is_none());
    assert!(proxy.video.exists());
}
