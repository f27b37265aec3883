//! Audio decoding to f32 PCM at a requested rate and channel count.
//!
//! Symphonia decodes first (pure Rust, fast, precise sample counts); FFmpeg takes over for
//! formats Symphonia cannot read, and the other way round when FFmpeg fails. Decoded audio
//! streams out in chunks as it is produced so the waveform can be drawn before the end.

use std::path::Path;

use ffmpeg_next as ffmpeg;
use rubato::{FftFixedInOut, Resampler};

use super::MediaError;
use super::probe::{describe_ffmpeg_error, open_input};
use crate::jobs::CancelToken;
use crate::time::Ticks;

/// Input frames per resampler call.
const RESAMPLE_CHUNK: usize = 2048;

/// Decoded PCM, interleaved.
#[derive(Debug, Clone, Default)]
pub struct DecodedAudio {
    /// Samples per second of `samples`.
    pub rate: u32,
    /// Channels interleaved in `samples`.
    pub channels: u16,
    /// Interleaved f32 samples in -1..=1.
    pub samples: Vec<f32>,
    /// Rate of the source before resampling.
    pub source_rate: u32,
    /// Which decoder produced it ("symphonia" or "ffmpeg").
    pub decoder: &'static str,
    /// Problems that did not stop decoding (corrupt packets, early end).
    pub warnings: Vec<String>,
    /// Presentation time of the first decoded sample in the stream's timeline, after the
    /// encoder's priming is trimmed (FFmpeg path; `None` from symphonia): where the sound
    /// starts against the container's other streams, which a sync check needs.
    pub first_pts: Option<Ticks>,
}

impl DecodedAudio {
    /// Number of sample frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }
}

/// Decodes the first audio track of `path` to interleaved f32 at `rate` Hz with `channels`
/// channels (0 for either keeps the source's). `on_chunk` receives each converted chunk as it
/// is produced. Checks `cancel` once per packet.
pub fn decode_audio(
    path: &Path,
    rate: u32,
    channels: u16,
    cancel: &CancelToken,
    on_chunk: &mut dyn FnMut(&[f32]),
) -> Result<DecodedAudio, MediaError> {
    MediaError::check_readable(path)?;
    // MP4/MOV/M4A keep the encoder's priming samples in an edit list, which symphonia does
    // not read (AAC would start 1024 samples late): FFmpeg trims them, so it goes first.
    let iso = is_iso_media(path);
    let first_try = if iso {
        decode_with_ffmpeg(path, rate, channels, cancel, on_chunk)
    } else {
        decode_with_symphonia(path, rate, channels, cancel, on_chunk)
    };
    match first_try {
        Ok(audio) => Ok(audio),
        Err(MediaError::Cancelled) => Err(MediaError::Cancelled),
        Err(first) => {
            tracing::debug!("first decoder failed, trying the other: {first}");
            let second_try = if iso {
                decode_with_symphonia(path, rate, channels, cancel, on_chunk)
            } else {
                decode_with_ffmpeg(path, rate, channels, cancel, on_chunk)
            };
            match second_try {
                Ok(mut audio) => {
                    audio.warnings.retain(|w| !w.is_empty());
                    let first_name = if iso { "FFmpeg" } else { "symphonia" };
                    audio.warnings.push(format!(
                        "{first_name} could not decode the file ({}); decoded with {}",
                        first.reason(),
                        audio.decoder
                    ));
                    Ok(audio)
                }
                Err(MediaError::Cancelled) => Err(MediaError::Cancelled),
                // "No audio stream" is the precise verdict when either decoder gives it (a
                // video file without sound); otherwise the message names both reasons.
                Err(second) => Err(match (&first, &second) {
                    (_, MediaError::NoStream { .. }) => second,
                    (MediaError::NoStream { .. }, _) => first,
                    _ => {
                        let (ffmpeg, symphonia) = if iso {
                            (&first, &second)
                        } else {
                            (&second, &first)
                        };
                        MediaError::Malformed {
                            path: path.to_path_buf(),
                            reason: format!(
                                "FFmpeg: {}; symphonia: {}",
                                ffmpeg.reason(),
                                symphonia.reason()
                            ),
                        }
                    }
                }),
            }
        }
    }
}

/// Converts source PCM to the requested channel count and rate, chunk by chunk.
struct Converter {
    src_channels: usize,
    dst_channels: usize,
    planar: Vec<Vec<f32>>,
    resampler: Option<FftFixedInOut<f32>>,
    delay_to_skip: usize,
    /// The resampler's delay line has been flushed (after the last input).
    flushed: bool,
    src_rate: u64,
    dst_rate: u64,
    frames_in: u64,
    frames_out: u64,
    out: Vec<f32>,
}

impl Converter {
    fn new(src_rate: u32, src_channels: usize, dst_rate: u32, dst_channels: usize) -> Self {
        let resampler = if src_rate != dst_rate && src_rate > 0 && dst_rate > 0 {
            FftFixedInOut::<f32>::new(
                src_rate as usize,
                dst_rate as usize,
                RESAMPLE_CHUNK,
                dst_channels,
            )
            .ok()
        } else {
            None
        };
        let delay_to_skip = resampler.as_ref().map(|r| r.output_delay()).unwrap_or(0);
        Self {
            src_channels: src_channels.max(1),
            dst_channels: dst_channels.max(1),
            planar: vec![Vec::new(); dst_channels.max(1)],
            resampler,
            delay_to_skip,
            flushed: false,
            src_rate: u64::from(src_rate.max(1)),
            dst_rate: u64::from(dst_rate.max(1)),
            frames_in: 0,
            frames_out: 0,
            out: Vec::new(),
        }
    }

    /// Mixes interleaved source samples into the planar buffer, then resamples what is ready.
    fn push(&mut self, interleaved: &[f32], on_chunk: &mut dyn FnMut(&[f32])) {
        let (sc, dc) = (self.src_channels, self.dst_channels);
        self.frames_in += (interleaved.len() / sc) as u64;
        for frame in interleaved.chunks_exact(sc) {
            if dc == 1 {
                let sum: f32 = frame.iter().sum();
                self.planar[0].push(sum / sc as f32);
            } else if sc == 1 {
                for plane in self.planar.iter_mut() {
                    plane.push(frame[0]);
                }
            } else {
                for (c, plane) in self.planar.iter_mut().enumerate() {
                    // Fold surround channels onto the output channels by index.
                    let (mut sum, mut n) = (0.0f32, 0u32);
                    for (i, s) in frame.iter().enumerate() {
                        if i % dc == c {
                            sum += s;
                            n += 1;
                        }
                    }
                    plane.push(if n == 0 { 0.0 } else { sum / n as f32 });
                }
            }
        }
        self.drain(false, on_chunk);
    }

    fn drain(&mut self, last: bool, on_chunk: &mut dyn FnMut(&[f32])) {
        let start = self.out.len();
        match self.resampler.as_mut() {
            None => {
                let frames = self.planar[0].len();
                for i in 0..frames {
                    for plane in &self.planar {
                        self.out.push(plane[i]);
                    }
                }
                for plane in self.planar.iter_mut() {
                    plane.clear();
                }
            }
            Some(resampler) => loop {
                let needed = resampler.input_frames_next();
                let have = self.planar[0].len();
                let result = if have >= needed {
                    let input: Vec<&[f32]> = self.planar.iter().map(|p| &p[..needed]).collect();
                    resampler.process(&input, None)
                } else if last && have > 0 {
                    let input: Vec<&[f32]> = self.planar.iter().map(|p| &p[..]).collect();
                    resampler.process_partial(Some(&input), None)
                } else if last && !self.flushed {
                    // Flush the resampler's delay line so the tail is not lost (the padding
                    // that comes with it is cut below).
                    self.flushed = true;
                    resampler.process_partial::<&[f32]>(None, None)
                } else {
                    break;
                };
                let consumed = needed.min(have);
                for plane in self.planar.iter_mut() {
                    plane.drain(..consumed);
                }
                match result {
                    Ok(output) => {
                        let skip = self.delay_to_skip.min(output.first().map_or(0, Vec::len));
                        self.delay_to_skip -= skip;
                        interleave_into(&output, &mut self.out, skip);
                    }
                    Err(error) => {
                        tracing::warn!("resampler failed: {error}");
                        break;
                    }
                }
                if last && self.planar[0].is_empty() && self.flushed {
                    break;
                }
            },
        }
        if self.resampler.is_some() {
            // Exactly as many frames out as the input lasts at the output rate: the partial
            // last chunk and the flush come padded with silence.
            let dc = self.dst_channels;
            let expected = (self.frames_in * self.dst_rate + self.src_rate / 2) / self.src_rate;
            let allowed = expected.saturating_sub(self.frames_out) as usize;
            let emitted = (self.out.len() - start) / dc;
            self.out.truncate(start + emitted.min(allowed) * dc);
            self.frames_out += emitted.min(allowed) as u64;
        }
        if self.out.len() > start {
            on_chunk(&self.out[start..]);
        }
    }
}

/// Whether the file is ISO base media (MP4, MOV, M4A, 3GP): an `ftyp` box first, by content
/// rather than by name.
fn is_iso_media(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head[4..8] == b"ftyp")
}

fn interleave_into(planes: &[Vec<f32>], out: &mut Vec<f32>, skip: usize) {
    let frames = planes.first().map_or(0, Vec::len);
    for i in skip..frames {
        for plane in planes {
            out.push(plane.get(i).copied().unwrap_or(0.0));
        }
    }
}

/// Opens `path` with symphonia's demuxer (the extension as a hint), for decoding or, when
/// FFmpeg refuses the file, for probing.
pub(crate) fn open_with_symphonia(
    path: &Path,
) -> Result<Box<dyn symphonia::core::formats::FormatReader>, MediaError> {
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let file = std::fs::File::open(path).map_err(|source| MediaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| MediaError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

fn decode_with_symphonia(
    path: &Path,
    rate: u32,
    channels: u16,
    cancel: &CancelToken,
    on_chunk: &mut dyn FnMut(&[f32]),
) -> Result<DecodedAudio, MediaError> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::errors::Error as SymError;
    use symphonia::core::formats::TrackType;

    let malformed = |reason: String| MediaError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let mut format = open_with_symphonia(path)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| MediaError::NoStream {
            path: path.to_path_buf(),
            kind: "audio",
        })?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| MediaError::NoStream {
            path: path.to_path_buf(),
            kind: "audio",
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| MediaError::Unsupported {
            what: format!("audio codec ({e})"),
            path: path.to_path_buf(),
        })?;
    let mut converter: Option<Converter> = None;
    let mut source_rate = params.sample_rate.unwrap_or(0);
    let mut out_rate = rate;
    let mut out_channels = channels;
    let mut warnings = Vec::new();
    let mut scratch: Vec<f32> = Vec::new();
    let mut decoded_any = false;
    // One packet is held back: only the stream's last packet may drop its end padding. Ogg
    // pages whose granule positions fall short of their packets' lengths (as muxers that mix
    // or re-time audio write them) make symphonia trim frames mid-stream, 20 ms a time, so
    // the audio drifts early against what every other player plays (130 ms after three
    // minutes of one real song); FFmpeg and libvorbis ignore such trims, and so do we.
    let mut held: Option<symphonia::core::packet::Packet> = None;
    loop {
        if cancel.is_cancelled() {
            return Err(MediaError::Cancelled);
        }
        let next = match format.next_packet() {
            Ok(Some(p)) => Some(p),
            Ok(None) => None,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
            Err(e) => {
                if !decoded_any && held.is_none() {
                    return Err(malformed(e.to_string()));
                }
                warnings.push(format!("stopped reading early ({e})"));
                None
            }
        };
        let at_end = next.is_none();
        if next.as_ref().is_some_and(|p| p.track_id != track_id) {
            continue;
        }
        let Some(mut packet) = std::mem::replace(&mut held, next) else {
            if at_end {
                break;
            }
            continue;
        };
        if !at_end && packet.trim_end.get() > 0 {
            packet.dur = packet.dur.saturating_add(packet.trim_end);
            packet.trim_end = symphonia::core::units::Duration::ZERO;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                let spec = buffer.spec();
                let src_channels = spec.channels().count();
                if converter.is_none() {
                    source_rate = spec.rate();
                    if out_rate == 0 {
                        out_rate = source_rate;
                    }
                    if out_channels == 0 {
                        out_channels = src_channels.min(2) as u16;
                    }
                    converter = Some(Converter::new(
                        source_rate,
                        src_channels,
                        out_rate,
                        out_channels as usize,
                    ));
                }
                scratch.resize(buffer.samples_interleaved(), 0.0);
                buffer.copy_to_slice_interleaved(&mut scratch);
                if let Some(conv) = converter.as_mut() {
                    conv.push(&scratch, on_chunk);
                }
                decoded_any = true;
            }
            Err(SymError::DecodeError(e)) => {
                if warnings.len() < 20 {
                    warnings.push(format!("corrupt packet skipped ({e})"));
                }
            }
            Err(e) => {
                if !decoded_any {
                    return Err(malformed(e.to_string()));
                }
                warnings.push(format!("stopped decoding early ({e})"));
                break;
            }
        }
        if at_end {
            break;
        }
    }
    let Some(mut conv) = converter else {
        return Err(malformed("no audio could be decoded".into()));
    };
    conv.drain(true, on_chunk);
    Ok(DecodedAudio {
        rate: out_rate,
        channels: out_channels,
        samples: conv.out,
        source_rate,
        decoder: "symphonia",
        warnings,
        first_pts: None,
    })
}

fn decode_with_ffmpeg(
    path: &Path,
    rate: u32,
    channels: u16,
    cancel: &CancelToken,
    on_chunk: &mut dyn FnMut(&[f32]),
) -> Result<DecodedAudio, MediaError> {
    use ffmpeg::format::Sample;
    use ffmpeg::format::sample::Type as SampleType;

    let mut input = open_input(path)?;
    let stream = input
        .streams()
        .best(ffmpeg::media::Type::Audio)
        .ok_or_else(|| MediaError::NoStream {
            path: path.to_path_buf(),
            kind: "audio",
        })?;
    let index = stream.index();
    let time_base = stream.time_base();
    let context =
        ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| {
            MediaError::Malformed {
                path: path.to_path_buf(),
                reason: describe_ffmpeg_error(&e),
            }
        })?;
    let mut decoder = context
        .decoder()
        .audio()
        .map_err(|e| MediaError::Unsupported {
            what: format!("audio codec ({})", describe_ffmpeg_error(&e)),
            path: path.to_path_buf(),
        })?;
    let source_rate = decoder.rate();
    let src_channels = decoder.channels().max(1) as usize;
    let out_rate = if rate == 0 { source_rate } else { rate };
    let out_channels = if channels == 0 {
        src_channels.min(2) as u16
    } else {
        channels
    };
    // FFmpeg only converts the sample format here; channel mixing and resampling use the
    // same code as the Symphonia path so both decoders give identical timing.
    let mut converter = Converter::new(source_rate, src_channels, out_rate, out_channels as usize);
    let mut resampler: Option<ffmpeg::software::resampling::Context> = None;
    let mut warnings = Vec::new();
    let mut decoded = ffmpeg::frame::Audio::empty();
    let mut converted = ffmpeg::frame::Audio::empty();
    let mut scratch: Vec<f32> = Vec::new();
    let mut first_pts: Option<Ticks> = None;
    let mut handle_frames = |decoder: &mut ffmpeg::decoder::Audio,
                             converter: &mut Converter,
                             on_chunk: &mut dyn FnMut(&[f32])|
     -> Result<(), MediaError> {
        while decoder.receive_frame(&mut decoded).is_ok() {
            if first_pts.is_none() && decoded.samples() > 0 {
                first_pts = decoded
                    .timestamp()
                    .or(decoded.pts())
                    .map(|pts| ticks_in(pts, time_base));
            }
            if resampler.is_none() {
                let mut layout = decoded.channel_layout();
                if layout.channels() == 0 {
                    layout = ffmpeg::ChannelLayout::default(src_channels as i32);
                }
                decoded.set_channel_layout(layout);
                resampler = Some(
                    ffmpeg::software::resampling::Context::get(
                        decoded.format(),
                        layout,
                        decoded.rate(),
                        Sample::F32(SampleType::Packed),
                        layout,
                        decoded.rate(),
                    )
                    .map_err(|e| MediaError::Unsupported {
                        what: format!("sample format ({e})"),
                        path: path.to_path_buf(),
                    })?,
                );
            }
            if let Some(r) = resampler.as_mut() {
                // A fresh output frame each time: swresample sizes it from the input, and
                // frame sizes vary (Opus pre-skip, for one).
                converted = ffmpeg::frame::Audio::empty();
                if r.run(&decoded, &mut converted).is_err() {
                    continue;
                }
                let n = converted.samples() * src_channels;
                let bytes = converted.data(0);
                scratch.clear();
                scratch.extend(
                    bytes
                        .chunks_exact(4)
                        .take(n)
                        .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
                );
                converter.push(&scratch, on_chunk);
            }
        }
        Ok(())
    };
    for (stream, packet) in input.packets() {
        if cancel.is_cancelled() {
            return Err(MediaError::Cancelled);
        }
        if stream.index() != index {
            continue;
        }
        if let Err(e) = decoder.send_packet(&packet) {
            if warnings.len() < 20 {
                warnings.push(format!(
                    "corrupt packet skipped ({})",
                    describe_ffmpeg_error(&e)
                ));
            }
            continue;
        }
        handle_frames(&mut decoder, &mut converter, on_chunk)?;
    }
    let _ = decoder.send_eof();
    handle_frames(&mut decoder, &mut converter, on_chunk)?;
    converter.drain(true, on_chunk);
    if converter.out.is_empty() {
        return Err(MediaError::Decode {
            path: path.to_path_buf(),
            reason: "no audio could be decoded".into(),
        });
    }
    Ok(DecodedAudio {
        rate: out_rate,
        channels: out_channels,
        samples: converter.out,
        source_rate,
        decoder: "ffmpeg",
        warnings,
        first_pts,
    })
}

/// `pts` in `time_base` units as ticks.
fn ticks_in(pts: i64, time_base: ffmpeg::Rational) -> Ticks {
    let (num, den) = (
        i128::from(time_base.numerator()),
        i128::from(time_base.denominator()),
    );
    if den == 0 {
        return 0;
    }
    (i128::from(pts) * i128::from(crate::time::TICKS_PER_SECOND) * num / den) as Ticks
}
