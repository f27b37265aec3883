//! Encoding: an MP4 writer (H.264 video, AAC audio) that writes to a temporary file beside
//! the target and renames it only when complete, so a cancelled or failed export never
//! leaves a broken file behind.

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::format::Sample;
use ffmpeg::format::sample::Type as SampleType;
use ffmpeg_next as ffmpeg;

use super::MediaError;
use super::picture::Picture;
use crate::time::FrameRate;

/// Video encoder settings.
#[derive(Debug, Clone)]
pub struct VideoEncodeSettings {
    /// Output width (even).
    pub width: u32,
    /// Output height (even).
    pub height: u32,
    /// Output frame rate; frames are stamped on this grid.
    pub fps: FrameRate,
    /// x264 constant rate factor (lower is better quality).
    pub crf: u8,
    /// x264 speed preset (ultrafast .. veryslow).
    pub preset: String,
    /// Encoder threads (0: automatic).
    pub threads: usize,
    /// Keyframe interval in frames (0: the encoder's default; 1: every frame a keyframe,
    /// as for seek proxies).
    pub gop: u32,
}

/// Audio encoder settings.
#[derive(Debug, Clone)]
pub struct AudioEncodeSettings {
    /// Samples per second.
    pub rate: u32,
    /// Channels (1 or 2).
    pub channels: u16,
    /// Bits per second.
    pub bitrate: usize,
}

struct AudioTrack {
    encoder: ffmpeg::encoder::Audio,
    stream_index: usize,
    channels: usize,
    frame_size: usize,
    pending: Vec<f32>,
    next_pts: i64,
    layout: ffmpeg::ChannelLayout,
}

/// Writes an MP4 file frame by frame.
pub struct Mp4Writer {
    output: ffmpeg::format::context::Output,
    video: ffmpeg::encoder::Video,
    video_stream_index: usize,
    video_time_base: ffmpeg::Rational,
    audio: Option<AudioTrack>,
    settings: VideoEncodeSettings,
    encoder_name: String,
    frames_written: i64,
    temp_path: PathBuf,
    final_path: PathBuf,
    done: bool,
}

fn encode_error(path: &Path, reason: impl std::fmt::Display) -> MediaError {
    MediaError::Encode {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The temporary name an output is written under until it is complete.
pub fn temporary_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

impl Mp4Writer {
    /// Opens the encoders and a temporary output file beside `path`.
    pub fn create(
        path: &Path,
        video: VideoEncodeSettings,
        audio: Option<AudioEncodeSettings>,
    ) -> Result<Self, MediaError> {
        super::init();
        let temp_path = temporary_path_for(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| encode_error(path, e))?;
        }
        if temp_path.to_str().is_none() {
            // FFmpeg's Rust wrapper takes UTF-8 names only (it would panic on others).
            return Err(encode_error(
                path,
                "the folder's name is not UTF-8, which the encoder cannot write to; choose another folder",
            ));
        }
        let mut output = ffmpeg::format::output_as(&temp_path, "mp4")
            .map_err(|e| encode_error(path, format!("cannot create output ({e})")))?;
        let global_header = output
            .format()
            .flags()
            .contains(ffmpeg::format::Flags::GLOBAL_HEADER);

        let codec = ffmpeg::encoder::find_by_name("libx264")
            .or_else(|| ffmpeg::encoder::find(ffmpeg::codec::Id::H264))
            .or_else(|| ffmpeg::encoder::find(ffmpeg::codec::Id::MPEG4))
            .ok_or_else(|| encode_error(path, "no H.264 or MPEG-4 encoder available"))?;
        let encoder_name = codec.name().to_string();
        if encoder_name != "libx264" {
            tracing::warn!("libx264 not available; encoding with {encoder_name}");
        }
        let video_time_base = ffmpeg::Rational(video.fps.den, video.fps.num);
        let mut context = ffmpeg::codec::context::Context::new_with_codec(codec);
        context.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Frame,
            count: video.threads,
            ..Default::default()
        });
        let mut enc = context
            .encoder()
            .video()
            .map_err(|e| encode_error(path, e))?;
        enc.set_width(video.width);
        enc.set_height(video.height);
        enc.set_format(Pixel::YUV420P);
        enc.set_time_base(video_time_base);
        enc.set_frame_rate(Some(ffmpeg::Rational(video.fps.num, video.fps.den)));
        if video.gop > 0 {
            enc.set_gop(video.gop);
            if video.gop == 1 {
                enc.set_max_b_frames(0);
            }
        }
        if global_header {
            // Added to the flags already set: libx264's defaults include +cgop (closed GOPs,
            // as the ffmpeg CLI encodes), which `set_flags` would clear.
            // SAFETY: the context is valid and not yet opened; this only sets a field.
            unsafe {
                (*enc.as_mut_ptr()).flags |=
                    ffmpeg::codec::Flags::GLOBAL_HEADER.bits() as std::ffi::c_int;
            }
        }
        let mut options = ffmpeg::Dictionary::new();
        if encoder_name == "libx264" {
            options.set("preset", &video.preset);
            options.set("crf", &video.crf.to_string());
        } else {
            enc.set_bit_rate(video.width as usize * video.height as usize * 4);
        }
        let video_encoder = enc
            .open_with(options)
            .map_err(|e| encode_error(path, format!("cannot open {encoder_name} ({e})")))?;
        let video_stream_index = {
            let mut stream = output
                .add_stream(codec)
                .map_err(|e| encode_error(path, e))?;
            stream.set_parameters(&video_encoder);
            stream.set_time_base(video_time_base);
            stream.index()
        };

        let audio_track = match audio {
            Some(settings) => Some(Self::open_audio(
                &mut output,
                path,
                &settings,
                global_header,
            )?),
            None => None,
        };

        let mut header_options = ffmpeg::Dictionary::new();
        header_options.set("movflags", "+faststart");
        output
            .write_header_with(header_options)
            .map_err(|e| encode_error(path, format!("cannot write header ({e})")))?;
        Ok(Self {
            output,
            video: video_encoder,
            video_stream_index,
            video_time_base,
            audio: audio_track,
            settings: video,
            encoder_name,
            frames_written: 0,
            temp_path,
            final_path: path.to_path_buf(),
            done: false,
        })
    }

    fn open_audio(
        output: &mut ffmpeg::format::context::Output,
        path: &Path,
        settings: &AudioEncodeSettings,
        global_header: bool,
    ) -> Result<AudioTrack, MediaError> {
        let codec = ffmpeg::encoder::find(ffmpeg::codec::Id::AAC)
            .ok_or_else(|| encode_error(path, "no AAC encoder available"))?;
        let context = ffmpeg::codec::context::Context::new_with_codec(codec);
        let mut enc = context
            .encoder()
            .audio()
            .map_err(|e| encode_error(path, e))?;
        let layout = ffmpeg::ChannelLayout::default(settings.channels as i32);
        enc.set_rate(settings.rate as i32);
        enc.set_channel_layout(layout);
        enc.set_format(Sample::F32(SampleType::Planar));
        enc.set_bit_rate(settings.bitrate);
        enc.set_time_base(ffmpeg::Rational(1, settings.rate as i32));
        if global_header {
            enc.set_flags(ffmpeg::codec::Flags::GLOBAL_HEADER);
        }
        let encoder = enc
            .open_as(codec)
            .map_err(|e| encode_error(path, format!("cannot open AAC encoder ({e})")))?;
        let stream_index = {
            let mut stream = output
                .add_stream(codec)
                .map_err(|e| encode_error(path, e))?;
            stream.set_parameters(&encoder);
            stream.set_time_base(ffmpeg::Rational(1, settings.rate as i32));
            stream.index()
        };
        let frame_size = (encoder.frame_size() as usize).max(1);
        Ok(AudioTrack {
            encoder,
            stream_index,
            channels: settings.channels.max(1) as usize,
            frame_size,
            pending: Vec::new(),
            next_pts: 0,
            layout,
        })
    }

    /// Name of the video encoder in use (libx264 unless it was missing).
    pub fn encoder_name(&self) -> &str {
        &self.encoder_name
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> i64 {
        self.frames_written
    }

    /// Appends one picture: tightly packed Y, U, V planes at the output size.
    pub fn push_video_yuv420p(&mut self, data: &[u8]) -> Result<(), MediaError> {
        let (w, h) = (self.settings.width as usize, self.settings.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        if data.len() < w * h + 2 * cw * ch {
            return Err(encode_error(&self.final_path, "frame buffer too small"));
        }
        let picture = Picture::from_yuv420p(data, w as u32, h as u32)?;
        self.push_picture(picture)
    }

    /// Appends one picture at the output size without copying it (the encoder takes its own
    /// reference; libx264 copies the pixels into its own frame when it receives them).
    pub fn push_picture(&mut self, mut picture: Picture) -> Result<(), MediaError> {
        let (w, h) = (self.settings.width, self.settings.height);
        if (picture.width(), picture.height()) != (w, h) {
            return Err(encode_error(
                &self.final_path,
                format!(
                    "picture is {}x{}, the output {w}x{h}",
                    picture.width(),
                    picture.height()
                ),
            ));
        }
        let frame = picture.frame_mut();
        frame.set_pts(Some(self.frames_written));
        self.frames_written += 1;
        self.video
            .send_frame(frame)
            .map_err(|e| encode_error(&self.final_path, format!("video encoder ({e})")))?;
        self.write_video_packets()
    }

    fn write_video_packets(&mut self) -> Result<(), MediaError> {
        let stream_tb = self
            .output
            .stream(self.video_stream_index)
            .map(|s| s.time_base())
            .unwrap_or(self.video_time_base);
        let mut packet = ffmpeg::Packet::empty();
        while self.video.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.video_stream_index);
            if packet.duration() <= 0 {
                // Every frame lasts one tick of the frame grid; without this the muxer
                // drops the last frame's duration and the file comes out one frame short.
                packet.set_duration(1);
            }
            packet.rescale_ts(self.video_time_base, stream_tb);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|e| encode_error(&self.final_path, format!("write failed ({e})")))?;
        }
        Ok(())
    }

    /// Appends interleaved f32 audio at the configured rate and channel count.
    pub fn push_audio(&mut self, interleaved: &[f32]) -> Result<(), MediaError> {
        let Some(track) = self.audio.as_mut() else {
            return Ok(());
        };
        track.pending.extend_from_slice(interleaved);
        self.encode_audio(false)
    }

    fn encode_audio(&mut self, flush: bool) -> Result<(), MediaError> {
        let Some(track) = self.audio.as_mut() else {
            return Ok(());
        };
        let stream_tb = self
            .output
            .stream(track.stream_index)
            .map(|s| s.time_base())
            .unwrap_or(ffmpeg::Rational(1, track.encoder.rate() as i32));
        let enc_tb = ffmpeg::Rational(1, track.encoder.rate() as i32);
        let per_frame = track.frame_size * track.channels;
        while track.pending.len() >= per_frame || (flush && !track.pending.is_empty()) {
            let take = per_frame.min(track.pending.len());
            let samples = take / track.channels;
            let mut frame = ffmpeg::frame::Audio::new(
                Sample::F32(SampleType::Planar),
                track.frame_size,
                track.layout,
            );
            frame.set_rate(track.encoder.rate());
            for c in 0..track.channels {
                let plane = frame.plane_mut::<f32>(c);
                for (i, slot) in plane.iter_mut().enumerate() {
                    *slot = if i < samples {
                        track
                            .pending
                            .get(i * track.channels + c)
                            .copied()
                            .unwrap_or(0.0)
                    } else {
                        0.0
                    };
                }
            }
            if samples < track.frame_size {
                frame.set_samples(samples);
            }
            track.pending.drain(..take);
            frame.set_pts(Some(track.next_pts));
            track.next_pts += samples as i64;
            track
                .encoder
                .send_frame(&frame)
                .map_err(|e| encode_error(&self.final_path, format!("audio encoder ({e})")))?;
            let mut packet = ffmpeg::Packet::empty();
            while track.encoder.receive_packet(&mut packet).is_ok() {
                packet.set_stream(track.stream_index);
                packet.rescale_ts(enc_tb, stream_tb);
                packet
                    .write_interleaved(&mut self.output)
                    .map_err(|e| encode_error(&self.final_path, format!("write failed ({e})")))?;
            }
        }
        if flush {
            let _ = track.encoder.send_eof();
            let mut packet = ffmpeg::Packet::empty();
            while track.encoder.receive_packet(&mut packet).is_ok() {
                packet.set_stream(track.stream_index);
                packet.rescale_ts(enc_tb, stream_tb);
                packet
                    .write_interleaved(&mut self.output)
                    .map_err(|e| encode_error(&self.final_path, format!("write failed ({e})")))?;
            }
        }
        Ok(())
    }

    /// Flushes the encoders, finishes the file and renames it to the target path.
    pub fn finish(mut self) -> Result<PathBuf, MediaError> {
        self.video
            .send_eof()
            .map_err(|e| encode_error(&self.final_path, format!("video encoder ({e})")))?;
        self.write_video_packets()?;
        self.encode_audio(true)?;
        self.output
            .write_trailer()
            .map_err(|e| encode_error(&self.final_path, format!("cannot finish file ({e})")))?;
        std::fs::rename(&self.temp_path, &self.final_path)
            .map_err(|e| encode_error(&self.final_path, format!("cannot rename ({e})")))?;
        self.done = true;
        Ok(self.final_path.clone())
    }
}

impl Drop for Mp4Writer {
    fn drop(&mut self) {
        if !self.done {
            // Cancelled or failed: never leave a partial file behind.
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}
