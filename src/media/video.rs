//! Video decoding: sequential frames and frame-accurate seeks, scaled and rotated for display,
//! with every timestamp measured from the first frame using real presentation times.

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg_next as ffmpeg;

use super::MediaError;
use super::picture::Picture;
use super::probe::{
    describe_ffmpeg_error, indexes_every_sample, open_header_only, open_input_for_video, valid_ts,
};
use super::rotate::{rotate_plane, rotation_of_stream};
use crate::time::{FrameRate, Ticks, secs_from_ticks, ticks_from_timebase, timebase_from_ticks};

/// How far past the target a frame may start and still count as "at" the target
/// (absorbs rounding between time bases; far below any real frame duration).
const SEEK_TOLERANCE: Ticks = crate::time::TICKS_PER_SECOND / 10_000;

/// Pixel layout of decoded frames handed to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// Packed 8-bit RGB.
    Rgb24,
    /// 8-bit luma only (cheapest for analysis).
    Gray8,
    /// Planar 4:2:0 YUV (Y, then U, then V, each tightly packed), as encoders want it.
    Yuv420p,
}

impl PixelLayout {
    fn ffmpeg(self) -> Pixel {
        match self {
            Self::Rgb24 => Pixel::RGB24,
            Self::Gray8 => Pixel::GRAY8,
            Self::Yuv420p => Pixel::YUV420P,
        }
    }
}

/// What the caller wants from the decoder.
#[derive(Debug, Clone)]
pub struct VideoDecodeOptions {
    /// Width of the box the displayed picture is scaled to fit (0: native).
    pub width: u32,
    /// Height of the box the displayed picture is scaled to fit (0: native).
    pub height: u32,
    /// Stretch to exactly `width`×`height` instead of fitting with the aspect kept.
    pub exact_size: bool,
    /// Pixel layout of the output frames.
    pub layout: PixelLayout,
    /// Decode only keyframes (skips all other packets before the decoder).
    pub keyframes_only: bool,
    /// Skip the in-loop deblocking filter: faster, slightly softer; fine for scoring.
    pub skip_loop_filter: bool,
    /// Decoder threads (0: FFmpeg chooses).
    pub threads: usize,
}

impl Default for VideoDecodeOptions {
    fn default() -> Self {
        Self {
            width: 0,
            height: 0,
            exact_size: false,
            layout: PixelLayout::Rgb24,
            keyframes_only: false,
            skip_loop_filter: false,
            threads: 0,
        }
    }
}

/// One decoded picture, upright, at the requested size and layout.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    /// Presentation time measured from the first frame of the stream.
    pub time: Ticks,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Layout of `data`.
    pub layout: PixelLayout,
    /// Tightly packed pixels.
    pub data: Vec<u8>,
    /// True for keyframes.
    pub key: bool,
}

/// A decoder for the main video stream of one file.
pub struct VideoDecoder {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    decoder: ffmpeg::decoder::Video,
    facts: StreamFacts,
    options: VideoDecodeOptions,
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    pending: Option<ffmpeg::frame::Video>,
    draining: bool,
    finished: bool,
    warnings: Vec<String>,
    encoder_settings: Option<String>,
    /// Non-reference frames are skipped at the caller's request (`set_skip_nonref`).
    skip_nonref: bool,
    /// During a seek's pre-roll: frames showing before this time are decoded only if other
    /// frames refer to them (nothing will show them).
    preroll_until: Option<Ticks>,
    /// Whether the decoder is set to discard non-reference frames right now.
    discarding_nonref: bool,
    /// Whether a packet went to the decoder with non-reference frames discarded during the
    /// pre-roll of the current seek.
    preroll_discarded: bool,
    /// Feeding ends at the first packet showing at or after this time (see
    /// [`VideoDecoder::stop_feeding_at`]).
    feed_until: Option<Ticks>,
    /// Keyframe-only feeding jumps from keyframe to keyframe (see [`KeyframeJumps`]).
    jumps: KeyframeJumps,
    /// Packets of the video stream read from the file so far.
    video_packets_read: u64,
    /// Packets of the video stream the packet index has read.
    index_packets_read: u64,
}

/// Keyframe-only feeding that seeks from one keyframe to the next through the demuxer's
/// own index instead of reading every packet between them: a keyframe scan reads a tenth
/// of the file. Only for containers whose index lists every sample (MP4/MOV): there a seek
/// lands on the sample itself, with its own presentation time.
#[derive(Debug, Default)]
struct KeyframeJumps {
    /// Decode timestamps of the keyframes, ascending; `None` until looked up, empty when
    /// the index cannot be used.
    keys: Option<Vec<i64>>,
    /// Decode timestamp of the last keyframe fed in keyframe-only mode.
    last_fed: Option<i64>,
}

/// Where to seek for keyframe `i` of `keys` (ascending keyframe decode times in any one
/// unit): halfway to the next keyframe (past the last, by the gap before it). The demuxer
/// takes a seek target for a presentation time, later than the decode time by any
/// reordering delay, and lands on the keyframe at or before it.
pub fn keyframe_seek_target(keys: &[i64], i: usize) -> Option<i64> {
    let at = *keys.get(i)?;
    let gap = match (keys.get(i + 1), i.checked_sub(1).and_then(|b| keys.get(b))) {
        (Some(&after), _) => after - at,
        (None, Some(&before)) => at - before,
        (None, None) => 0,
    };
    Some(at + gap / 2)
}

/// What keyframe-only feeding reads next.
enum NextKeyframe {
    /// The next packet the demuxer gives.
    Read,
    /// The keyframe at this decode timestamp (`at`), after a seek to `seek_to` (see
    /// [`keyframe_seek_target`]).
    Jump { at: i64, seek_to: i64 },
    /// Nothing: the last keyframe was fed.
    End,
}

/// One sample of the demuxer's index of the video stream, in decoding order.
struct SampleEntry {
    /// Decode timestamp, in the stream's time base.
    dts: i64,
    /// Compressed size in bytes.
    size: usize,
    /// A keyframe (random-access point).
    key: bool,
}

/// One compressed packet of the video stream as [`VideoDecoder::packet_index`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Presentation time from the first frame (decode time when the packet has none).
    pub time: Ticks,
    /// Compressed size in bytes.
    pub size: usize,
    /// True for keyframes (random-access points).
    pub key: bool,
    /// Position in decoding order: differs from the presentation order when the stream
    /// reorders pictures (B-frames).
    pub decode_index: usize,
}

/// Opens a stream again for a second decoder that works on another part of the file side
/// by side with the first. Stream probing (which decodes the first frames to learn what the
/// headers leave out) is done once: a reopened decoder reads the container header only and
/// takes the codec parameters and timing the first open found.
#[derive(Clone)]
pub struct StreamOpener {
    path: PathBuf,
    facts: StreamFacts,
    parameters: Option<ffmpeg::codec::Parameters>,
}

impl StreamOpener {
    /// The file this opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new decoder of the stream. Should the header read now disagree with the first open
    /// (another stream at that index, another time base), the file is opened and probed
    /// afresh.
    pub fn open(&self, options: VideoDecodeOptions) -> Result<VideoDecoder, MediaError> {
        let (Some(parameters), Ok(input)) = (self.parameters.clone(), open_header_only(&self.path))
        else {
            return VideoDecoder::open(&self.path, options);
        };
        let agrees = input.stream(self.facts.stream_index).is_some_and(|stream| {
            stream.parameters().id() == parameters.id()
                && stream.time_base() == self.facts.time_base
        });
        if !agrees {
            return VideoDecoder::open(&self.path, options);
        }
        let decoder = video_decoder(&self.path, parameters, &options)?;
        Ok(VideoDecoder::assemble(
            &self.path,
            (input, decoder),
            self.facts.clone(),
            options,
        ))
    }
}

/// What opening learnt about the video stream, kept for decoding it and for opening it again.
#[derive(Debug, Clone)]
struct StreamFacts {
    stream_index: usize,
    time_base: ffmpeg::Rational,
    origin_pts: i64,
    rotation: u32,
    frame_rate: FrameRate,
    duration: Ticks,
    /// The video stream's own duration as the container states it (see
    /// [`VideoDecoder::stated_duration`]).
    stated_duration: Option<Ticks>,
}

/// An opened video decoder for a stream with `parameters`, threaded as `options` ask.
fn video_decoder(
    path: &Path,
    parameters: ffmpeg::codec::Parameters,
    options: &VideoDecodeOptions,
) -> Result<ffmpeg::decoder::Video, MediaError> {
    let codec_id = parameters.id();
    let mut context =
        ffmpeg::codec::context::Context::from_parameters(parameters).map_err(|e| {
            MediaError::Malformed {
                path: path.to_path_buf(),
                reason: describe_ffmpeg_error(&e),
            }
        })?;
    context.set_threading(ffmpeg::threading::Config {
        kind: ffmpeg::threading::Type::Frame,
        count: options.threads,
        ..Default::default()
    });
    if options.skip_loop_filter {
        // SAFETY: the context is valid and not yet opened; this only sets a field.
        unsafe {
            (*context.as_mut_ptr()).skip_loop_filter = ffmpeg::ffi::AVDiscard::AVDISCARD_ALL;
        }
    }
    context
        .decoder()
        .video()
        .map_err(|e| MediaError::Unsupported {
            what: format!(
                "video codec {} ({})",
                codec_id.name(),
                describe_ffmpeg_error(&e)
            ),
            path: path.to_path_buf(),
        })
}

impl VideoDecoder {
    /// Opens the first video stream of `path`.
    pub fn open(path: &Path, options: VideoDecodeOptions) -> Result<Self, MediaError> {
        let input = open_input_for_video(path)?;
        let stream = input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .ok_or_else(|| MediaError::NoStream {
                path: path.to_path_buf(),
                kind: "video",
            })?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        let origin_pts = valid_ts(stream.start_time()).unwrap_or(0);
        let rotation = rotation_of_stream(&stream);
        let avg = stream.avg_frame_rate();
        let frame_rate = if avg.numerator() > 0 && avg.denominator() > 0 {
            FrameRate::from_f64(avg.numerator() as f64 / avg.denominator() as f64)
        } else {
            FrameRate::whole(30)
        };
        let duration = valid_ts(stream.duration())
            .map(|d| ticks_from_timebase(d, time_base.numerator(), time_base.denominator()))
            .or_else(|| {
                valid_ts(input.duration())
                    .map(|d| ticks_from_timebase(d, 1, ffmpeg::ffi::AV_TIME_BASE))
            })
            .unwrap_or(0);
        // SAFETY: the context pointer is valid while `input` lives; this reads one field.
        let guessed = unsafe {
            (*input.as_ptr()).duration_estimation_method
                == ffmpeg::ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE
        };
        let stated_duration = valid_ts(stream.duration())
            .filter(|_| !guessed)
            .map(|d| ticks_from_timebase(d, time_base.numerator(), time_base.denominator()));
        let facts = StreamFacts {
            stream_index,
            time_base,
            origin_pts,
            rotation,
            frame_rate,
            duration,
            stated_duration,
        };
        let decoder = video_decoder(path, stream.parameters(), &options)?;
        Ok(Self::assemble(path, (input, decoder), facts, options))
    }

    /// A decoder in its starting state over an opened input and codec.
    fn assemble(
        path: &Path,
        (input, decoder): (ffmpeg::format::context::Input, ffmpeg::decoder::Video),
        facts: StreamFacts,
        options: VideoDecodeOptions,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            input,
            decoder,
            facts,
            options,
            scaler: None,
            pending: None,
            draining: false,
            finished: false,
            warnings: Vec::new(),
            encoder_settings: None,
            skip_nonref: false,
            preroll_until: None,
            discarding_nonref: false,
            preroll_discarded: false,
            feed_until: None,
            jumps: KeyframeJumps::default(),
            video_packets_read: 0,
            index_packets_read: 0,
        }
    }

    /// What opening found out about the stream, to open it again cheaply: see
    /// [`StreamOpener`].
    pub fn opener(&self) -> StreamOpener {
        StreamOpener {
            path: self.path.clone(),
            facts: self.facts.clone(),
            // A copy of its own: the opener goes to other threads, and the demuxer's copy
            // stays with this decoder's thread.
            parameters: self
                .input
                .stream(self.facts.stream_index)
                .map(|stream| stream.parameters().clone()),
        }
    }

    /// The file being decoded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Average frame rate of the stream.
    pub fn frame_rate(&self) -> FrameRate {
        self.facts.frame_rate
    }

    /// Stream duration (0 when the container does not say).
    pub fn duration(&self) -> Ticks {
        self.facts.duration
    }

    /// The video stream's own duration when the container states one: not the whole
    /// file's (audio may run longer), nor a guess from the bit rate. What the pictures
    /// should add up to, to tell a file cut short.
    pub fn stated_duration(&self) -> Option<Ticks> {
        self.facts.stated_duration
    }

    /// Clockwise display rotation applied to every frame.
    pub fn rotation(&self) -> u32 {
        self.facts.rotation
    }

    /// Problems met so far that did not stop decoding (corrupt packets, early end).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds what another reader of the same file met (one reading its packet index, say)
    /// to [`Self::warnings`], once each.
    pub fn add_warnings(&mut self, warnings: &[String]) {
        for warning in warnings {
            if !self.warnings.contains(warning) {
                self.warnings.push(warning.clone());
            }
        }
    }

    /// Switches keyframe-only decoding on or off (takes effect from the next packet).
    pub fn set_keyframes_only(&mut self, keyframes_only: bool) {
        self.options.keyframes_only = keyframes_only;
        self.jumps.last_fed = None;
        if keyframes_only && self.jumps.keys.is_none() {
            self.jumps.keys = Some(self.indexed_keyframes().unwrap_or_default());
        }
    }

    /// How many packets of the video stream this decoder has read from the file (the
    /// packet index's reading aside): what a scan cost in reading.
    pub fn video_packets_read(&self) -> u64 {
        self.video_packets_read
    }

    /// How many packets of the video stream [`Self::packet_index`] has read from the file:
    /// one for a stream it lists from the container's index, every one otherwise.
    pub fn index_packets_read(&self) -> u64 {
        self.index_packets_read
    }

    /// When the video stream's keyframes decode (from the first frame), from the demuxer's
    /// index when it lists every sample (MP4/MOV): a scan can seek to each keyframe without
    /// reading the packets between. Without reordered pictures these are the keyframes'
    /// presentation times too. `None` for other containers.
    pub fn indexed_keyframe_times(&mut self) -> Option<Vec<Ticks>> {
        let keys = self.indexed_keyframes()?;
        (!keys.is_empty()).then(|| keys.iter().map(|&dts| self.ticks_of(dts)).collect())
    }

    /// Whether the stream's headers (or the frames probing decoded) announce reordered
    /// pictures (B-frames): their decoding order then differs from the order they show in.
    /// Only a packet index tells for sure.
    pub fn announces_reordering(&self) -> bool {
        // SAFETY: the decoder context is valid for the decoder's lifetime; this reads one
        // field.
        unsafe { (*self.decoder.as_ptr()).has_b_frames > 0 }
    }

    /// Decode timestamps of the video stream's keyframes from the demuxer's index, when it
    /// lists every sample of the stream (as MP4/MOV do once the header is read) and seeks
    /// exactly; `None` otherwise (an index of keyframes only, or of some, would skip
    /// keyframes between its entries).
    fn indexed_keyframes(&mut self) -> Option<Vec<i64>> {
        let keys: Vec<i64> = self
            .sample_index()?
            .into_iter()
            .filter(|entry| entry.key)
            .map(|entry| entry.dts)
            .collect();
        keys.is_sorted().then_some(keys)
    }

    /// The demuxer's index of the video stream, when it lists every sample (MP4/MOV once
    /// the header is read) and the format seeks exactly; `None` otherwise.
    fn sample_index(&mut self) -> Option<Vec<SampleEntry>> {
        if !self.seeks_exactly() {
            return None;
        }
        let stream = self.input.stream(self.facts.stream_index)?;
        if !indexes_every_sample(&stream) {
            return None;
        }
        // SAFETY: the stream pointer is valid while `self.input` lives; the entries are
        // copied out before anything reads packets (which may grow the index).
        unsafe {
            let stream = stream.as_ptr().cast_mut();
            let count = ffmpeg::ffi::avformat_index_get_entries_count(stream);
            (0..count)
                .map(|i| {
                    let entry = ffmpeg::ffi::avformat_index_get_entry(stream, i).as_ref()?;
                    Some(SampleEntry {
                        dts: entry.timestamp,
                        size: usize::try_from(entry.size()).unwrap_or(0),
                        key: entry.flags() & ffmpeg::ffi::AVINDEX_KEYFRAME != 0,
                    })
                })
                .collect()
        }
    }

    /// Where keyframe-only feeding goes next.
    fn next_keyframe(&self) -> NextKeyframe {
        match (&self.jumps.keys, self.jumps.last_fed) {
            (Some(keys), Some(last)) if !keys.is_empty() => {
                let i = keys.partition_point(|&k| k <= last);
                match (keys.get(i), keyframe_seek_target(keys, i)) {
                    (Some(&at), Some(seek_to)) => NextKeyframe::Jump { at, seek_to },
                    _ => NextKeyframe::End,
                }
            }
            _ => NextKeyframe::Read,
        }
    }

    /// Seeks the demuxer (not the decoder) to the keyframe at or before stream time `ts`.
    fn jump_to_keyframe(&mut self, ts: i64) -> bool {
        let stream_index = i32::try_from(self.facts.stream_index).unwrap_or(-1);
        // SAFETY: the context pointer is valid for the life of `self.input`; the seek moves
        // the demuxer only, and the decoder keeps what it was fed.
        let result = unsafe {
            ffmpeg::ffi::av_seek_frame(
                self.input.as_mut_ptr(),
                stream_index,
                ts,
                ffmpeg::ffi::AVSEEK_FLAG_BACKWARD,
            )
        };
        result >= 0
    }

    /// Ends the stream, as far as this decoder goes, at the first packet that shows at or
    /// after `until`: the frames before it come out and then the end, without decoding the
    /// picture at `until` (a keyframe costs as much as many predicted pictures). Exact only
    /// for streams that decode in presentation order (no B-frames): with reordering, a
    /// later packet can carry an earlier picture. The next seek clears it.
    pub fn stop_feeding_at(&mut self, until: Ticks) {
        self.feed_until = Some(until);
    }

    /// Displayed size of the pictures (sample aspect ratio and rotation applied), from the
    /// stream headers: no decoding.
    pub fn display_size(&self) -> (u32, u32) {
        let (width, height) = (self.decoder.width(), self.decoder.height());
        let sar = self.decoder.aspect_ratio();
        let sar_f = if sar.numerator() > 0 && sar.denominator() > 0 {
            sar.numerator() as f64 / sar.denominator() as f64
        } else {
            1.0
        };
        let shown_width = (width as f64 * sar_f).round() as u32;
        if self.facts.rotation % 180 == 90 {
            (height, shown_width)
        } else {
            (shown_width, height)
        }
    }

    /// Lists every packet of the stream in presentation order without decoding anything,
    /// then seeks back to the start. A read error ends the list early with a warning.
    ///
    /// A stream that decodes in presentation order, in a container whose index lists every
    /// sample (MP4/MOV), is listed from that index: sizes, keyframes and times are all
    /// there, and only the first packet is read. Any other is read packet by packet
    /// ([`Self::read_packet_index`]).
    ///
    /// Also remembers the encoder's settings string when the first keyframe carries one
    /// (x264 and x265 write theirs into an SEI message): see [`Self::encoder_settings`].
    pub fn packet_index(&mut self) -> Result<Vec<PacketInfo>, MediaError> {
        match self.packets_from_sample_index()? {
            Some(packets) => Ok(packets),
            None => self.read_packet_index(),
        }
    }

    /// [`Self::packet_index`] from the demuxer's index of every sample, for a stream without
    /// reordered pictures; `None` when that does not apply. A picture shows at its decode
    /// time plus the delay the first packet shows (the container's constant composition
    /// offset, if any).
    fn packets_from_sample_index(&mut self) -> Result<Option<Vec<PacketInfo>>, MediaError> {
        if self.announces_reordering() {
            return Ok(None);
        }
        let Some(entries) = self.sample_index() else {
            return Ok(None);
        };
        let stream_index = self.facts.stream_index;
        // The first packet: the composition delay, and the encoder's settings.
        self.seek_to_keyframe_before(0)?;
        let mut delay = None;
        while delay.is_none() {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == stream_index => {
                    self.index_packets_read += 1;
                    if packet.is_key() {
                        self.encoder_settings = packet.data().and_then(settings_text);
                    }
                    delay = Some(match (packet.pts(), packet.dts()) {
                        (Some(pts), Some(dts)) => pts - dts,
                        _ => 0,
                    });
                }
                Ok(()) | Err(ffmpeg::Error::InvalidData) => {}
                Err(_) => break,
            }
        }
        self.seek_to_keyframe_before(0)?;
        let Some(delay) = delay else {
            return Ok(None);
        };
        let mut packets: Vec<PacketInfo> = entries
            .into_iter()
            .enumerate()
            .map(|(decode_index, entry)| PacketInfo {
                time: self.ticks_of(entry.dts + delay),
                size: entry.size,
                key: entry.key,
                decode_index,
            })
            .collect();
        packets.sort_by_key(|p| p.time);
        Ok(Some(packets))
    }

    /// [`Self::packet_index`] by reading every packet of the file.
    pub fn read_packet_index(&mut self) -> Result<Vec<PacketInfo>, MediaError> {
        self.seek_to_keyframe_before(0)?;
        let mut packets = Vec::new();
        let mut looked_for_settings = false;
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.facts.stream_index {
                        continue;
                    }
                    self.index_packets_read += 1;
                    let Some(ts) = packet.pts().or(packet.dts()) else {
                        continue;
                    };
                    if !looked_for_settings && packet.is_key() {
                        looked_for_settings = true;
                        self.encoder_settings = packet.data().and_then(settings_text);
                    }
                    packets.push(PacketInfo {
                        time: self.ticks_of(ts),
                        size: packet.size(),
                        key: packet.is_key(),
                        decode_index: packets.len(),
                    });
                }
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(error) => {
                    self.warnings.push(format!(
                        "packet index stopped early ({})",
                        describe_ffmpeg_error(&error)
                    ));
                    break;
                }
            }
        }
        packets.sort_by_key(|p| p.time);
        self.seek_to_keyframe_before(0)?;
        Ok(packets)
    }

    /// The encoder's settings string (`"x264 - core ... keyint=250 ... scenecut=40 ..."`)
    /// found by [`Self::packet_index`] in the first keyframe, if any.
    pub fn encoder_settings(&self) -> Option<&str> {
        self.encoder_settings.as_deref()
    }

    /// Skips decoding of frames nothing refers to (B-frames, mostly) when `on`: a cheaper
    /// coarse pass. Takes effect from the next packet.
    pub fn set_skip_nonref(&mut self, on: bool) {
        self.skip_nonref = on;
        self.set_discard_nonref(on);
    }

    /// Sets the decoder to discard non-reference frames or not, from the next packet on.
    fn set_discard_nonref(&mut self, on: bool) {
        if on == self.discarding_nonref {
            return;
        }
        let discard = if on {
            ffmpeg::ffi::AVDiscard::AVDISCARD_NONREF
        } else {
            ffmpeg::ffi::AVDiscard::AVDISCARD_DEFAULT
        };
        // SAFETY: the decoder context is valid for the decoder's lifetime; this only sets a
        // field the decoder reads per packet.
        unsafe {
            (*self.decoder.as_mut_ptr()).skip_frame = discard;
        }
        self.discarding_nonref = on;
    }

    /// The next frame in presentation order, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, MediaError> {
        match self.next_raw()? {
            Some(raw) => self.convert(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Like [`Self::next_frame`] but writes into `frame`, reusing its pixel buffer's
    /// allocation (for loops that decode many frames). Returns false at the end of the
    /// stream, leaving `frame` as it was.
    pub fn next_frame_into(&mut self, frame: &mut VideoFrame) -> Result<bool, MediaError> {
        let Some(raw) = self.next_raw()? else {
            return Ok(false);
        };
        if self.facts.rotation != 0 {
            *frame = self.convert(&raw)?;
            return Ok(true);
        }
        self.convert_unrotated_into(&raw, frame)?;
        Ok(true)
    }

    /// The next frame in presentation order as a [`Picture`], or `None` at the end of the
    /// stream. When the decoded frame already is upright YUV 4:2:0 at the requested size this
    /// shares the decoder's pixels instead of copying them. Needs [`PixelLayout::Yuv420p`].
    pub fn next_picture(&mut self) -> Result<Option<Picture>, MediaError> {
        match self.next_raw()? {
            Some(raw) => self.picture_of(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Like `next_frame` but only returns the timestamp and whether it is a keyframe,
    /// without scaling: for skipping forward cheaply.
    pub fn skip_frame(&mut self) -> Result<Option<Ticks>, MediaError> {
        Ok(self.next_raw()?.map(|raw| self.time_of(&raw)))
    }

    /// The frame shown at `target` (the last frame starting at or before it): seeks to the
    /// keyframe before and decodes forward. Returns `None` past the end of the stream.
    pub fn seek_exact(&mut self, target: Ticks) -> Result<Option<VideoFrame>, MediaError> {
        match self.seek_exact_raw(target)? {
            Some(raw) => self.convert(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// [`Self::seek_exact`] as a [`Picture`]: see [`Self::next_picture`].
    pub fn seek_exact_picture(&mut self, target: Ticks) -> Result<Option<Picture>, MediaError> {
        match self.seek_exact_raw(target)? {
            Some(raw) => self.picture_of(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// The decoded frame shown at `target`, unconverted: the search behind `seek_exact`.
    ///
    /// The pre-roll from the keyframe skips the frames nothing refers to that show more than
    /// two frames before the target (up to half the decoding work). Every frame from there on
    /// is decoded, so a frame found there is the right one; one found earlier might have had
    /// a skipped successor, and then the search runs again decoding everything.
    fn seek_exact_raw(
        &mut self,
        target: Ticks,
    ) -> Result<Option<ffmpeg::frame::Video>, MediaError> {
        let decode_all_from = target - 2 * self.facts.frame_rate.frame_ticks().max(1);
        self.preroll_until = Some(decode_all_from);
        self.preroll_discarded = false;
        let found = self.search_exact(target);
        self.preroll_until = None;
        let skipped = self.preroll_discarded;
        match found {
            Ok(Some(raw)) if !skipped || self.time_of(&raw) >= decode_all_from => Ok(Some(raw)),
            Ok(None) if !skipped => Ok(None),
            Err(error) if !skipped => Err(error),
            _ => self.search_exact(target),
        }
    }

    /// Seeks to the keyframe before `target` and decodes forward to the frame shown at it,
    /// retrying from earlier keyframes when the first try looks wrong.
    fn search_exact(&mut self, target: Ticks) -> Result<Option<ffmpeg::frame::Video>, MediaError> {
        let mut back_off: Ticks = 0;
        // A gap wider than this between the frame found and the next one is suspicious: a
        // frame that precedes the keyframe in decode order (but shows after it) was skipped.
        let nominal = self.facts.frame_rate.frame_ticks().max(1);
        let suspicious_gap = nominal + nominal / 2;
        for _attempt in 0..4 {
            self.seek_to_keyframe_before(target - back_off)?;
            let retry_allowed = back_off == 0;
            let mut previous: Option<(ffmpeg::frame::Video, Ticks)> = None;
            loop {
                let Some(raw) = self.next_raw()? else {
                    match previous {
                        Some((p, t))
                            if retry_allowed
                                && target - t >= nominal - SEEK_TOLERANCE
                                && target < self.facts.duration - nominal / 2 =>
                        {
                            let _ = p;
                            break;
                        }
                        Some((p, _)) => return Ok(Some(p)),
                        None => return Ok(None),
                    }
                };
                let time = self.time_of(&raw);
                if time > target + SEEK_TOLERANCE {
                    match previous {
                        Some((_, t)) if retry_allowed && time - t >= suspicious_gap => break,
                        Some((p, _)) => {
                            self.pending = Some(raw);
                            return Ok(Some(p));
                        }
                        None if target <= 0 || back_off > 0 && time <= 0 => {
                            return Ok(Some(raw));
                        }
                        None => break,
                    }
                }
                previous = Some((raw, time));
            }
            // The demuxer landed after the target, or a frame may have been skipped:
            // start from an earlier keyframe and try again.
            back_off = if back_off == 0 {
                crate::time::TICKS_PER_SECOND
            } else {
                back_off * 4
            };
        }
        Err(MediaError::Seek {
            path: self.path.clone(),
            secs: secs_from_ticks(target),
            reason: "no keyframe found before the target".into(),
        })
    }

    /// Whether a seek by time lands on the keyframe asked for. Formats whose timestamps may
    /// jump (MPEG-TS: no index, seeking guesses from the timestamps it reads) do not: a seek
    /// there can land after the keyframe, so the frames before it are never decoded.
    pub fn seeks_exactly(&self) -> bool {
        // SAFETY: the input format pointer lives as long as the open context.
        let flags = unsafe { (*self.input.format().as_ptr()).flags };
        flags & ffmpeg::ffi::AVFMT_TS_DISCONT == 0
    }

    /// Seeks to the first byte of the file; false when the format cannot seek by bytes.
    fn seek_to_first_byte(&mut self) -> bool {
        // SAFETY: the context pointer is valid for the life of `self.input`; seeking by
        // bytes to position 0 only moves the demuxer.
        let result = unsafe {
            ffmpeg::ffi::avformat_seek_file(
                self.input.as_mut_ptr(),
                -1,
                i64::MIN,
                0,
                0,
                ffmpeg::ffi::AVSEEK_FLAG_BYTE,
            )
        };
        result >= 0
    }

    /// Seeks the demuxer to the keyframe at or before `target` and resets the decoder.
    pub fn seek_to_keyframe_before(&mut self, target: Ticks) -> Result<(), MediaError> {
        let stream_ts = self.facts.origin_pts
            + timebase_from_ticks(
                target.max(0),
                self.facts.time_base.numerator(),
                self.facts.time_base.denominator(),
            );
        let abs_ticks = ticks_from_timebase(
            stream_ts,
            self.facts.time_base.numerator(),
            self.facts.time_base.denominator(),
        );
        let micros = timebase_from_ticks(abs_ticks, 1, ffmpeg::ffi::AV_TIME_BASE);
        // Formats without an index (MPEG-TS) seek by guessing from timestamps and may land
        // past the first keyframe: the start is byte 0.
        if target <= 0 && !self.seeks_exactly() && self.seek_to_first_byte() {
            self.decoder.flush();
            self.pending = None;
            self.draining = false;
            self.finished = false;
            self.feed_until = None;
            self.jumps.last_fed = None;
            return Ok(());
        }
        self.input
            .seek(micros, ..micros + 1)
            .or_else(|_| self.input.seek(micros, ..))
            .map_err(|e| MediaError::Seek {
                path: self.path.clone(),
                secs: secs_from_ticks(target),
                reason: describe_ffmpeg_error(&e),
            })?;
        self.decoder.flush();
        self.pending = None;
        self.draining = false;
        self.finished = false;
        self.feed_until = None;
        self.jumps.last_fed = None;
        Ok(())
    }

    fn time_of(&self, raw: &ffmpeg::frame::Video) -> Ticks {
        // The frame's own pts first: best-effort timestamps are guessed from dts after a seek
        // or while draining and can land a frame late.
        let pts = raw
            .pts()
            .or(raw.timestamp())
            .unwrap_or(self.facts.origin_pts);
        self.ticks_of(pts)
    }

    /// A stream timestamp as a time from the first frame.
    fn ticks_of(&self, pts: i64) -> Ticks {
        ticks_from_timebase(
            pts - self.facts.origin_pts,
            self.facts.time_base.numerator(),
            self.facts.time_base.denominator(),
        )
    }

    fn next_raw(&mut self) -> Result<Option<ffmpeg::frame::Video>, MediaError> {
        if let Some(raw) = self.pending.take() {
            return Ok(Some(raw));
        }
        loop {
            if self.finished {
                return Ok(None);
            }
            let mut raw = ffmpeg::frame::Video::empty();
            match self.decoder.receive_frame(&mut raw) {
                Ok(()) => return Ok(Some(raw)),
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    if self.draining {
                        self.finished = true;
                        return Ok(None);
                    }
                    self.feed_packet();
                }
                Err(error) => {
                    self.warnings
                        .push(format!("decoder error: {}", describe_ffmpeg_error(&error)));
                    if self.draining {
                        self.finished = true;
                        return Ok(None);
                    }
                    self.feed_packet();
                }
            }
        }
    }

    /// Sends the next packet of our stream to the decoder (or end-of-stream).
    fn feed_packet(&mut self) {
        let mut jumped_to = None;
        if self.options.keyframes_only {
            match self.next_keyframe() {
                NextKeyframe::Read => {}
                NextKeyframe::Jump { at, seek_to } if self.jump_to_keyframe(seek_to) => {
                    jumped_to = Some(at);
                }
                // A failed seek leaves the demuxer where it was: read on from there.
                NextKeyframe::Jump { .. } => self.jumps.keys = Some(Vec::new()),
                NextKeyframe::End => {
                    self.draining = true;
                    if self.decoder.send_eof().is_err() {
                        self.finished = true;
                    }
                    return;
                }
            }
        }
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.facts.stream_index {
                        continue;
                    }
                    self.video_packets_read += 1;
                    if let Some(at) = jumped_to {
                        // Landed early: read on to the keyframe wanted, feeding nothing.
                        if packet.dts().is_some_and(|dts| dts < at) {
                            continue;
                        }
                        jumped_to = None;
                        if packet.dts() != Some(at) || !packet.is_key() {
                            // The index and the packets disagree: read every packet from
                            // here on.
                            self.jumps.keys = Some(Vec::new());
                        }
                    }
                    if self.options.keyframes_only && !packet.is_key() {
                        continue;
                    }
                    if self.options.keyframes_only {
                        self.jumps.last_fed = packet.dts();
                    }
                    let shows_at = packet.pts().map(|pts| self.ticks_of(pts));
                    if self
                        .feed_until
                        .is_some_and(|until| shows_at.is_some_and(|t| t >= until))
                    {
                        break;
                    }
                    let in_preroll = self
                        .preroll_until
                        .is_some_and(|until| shows_at.is_some_and(|t| t < until));
                    self.preroll_discarded |= in_preroll && !self.skip_nonref;
                    self.set_discard_nonref(self.skip_nonref || in_preroll);
                    match self.decoder.send_packet(&packet) {
                        Ok(()) => return,
                        Err(error) => {
                            self.note_corrupt(&error);
                            continue;
                        }
                    }
                }
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => {
                    self.note_corrupt(&ffmpeg::Error::InvalidData);
                    continue;
                }
                Err(error) => {
                    self.warnings.push(format!(
                        "stopped reading early ({})",
                        describe_ffmpeg_error(&error)
                    ));
                    break;
                }
            }
        }
        self.draining = true;
        if self.decoder.send_eof().is_err() {
            self.finished = true;
        }
    }

    fn note_corrupt(&mut self, error: &ffmpeg::Error) {
        const MAX_WARNINGS: usize = 20;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(format!(
                "corrupt packet skipped ({})",
                describe_ffmpeg_error(error)
            ));
        }
    }

    /// Size of the frame before rotation so that after rotation it fits the requested box.
    fn target_size(&self, src_w: u32, src_h: u32, sar: ffmpeg::Rational) -> (u32, u32) {
        let sar_f = if sar.numerator() > 0 && sar.denominator() > 0 {
            sar.numerator() as f64 / sar.denominator() as f64
        } else {
            1.0
        };
        let shown_w = (src_w as f64 * sar_f).max(1.0);
        let shown_h = src_h.max(1) as f64;
        let rotated = self.facts.rotation % 180 == 90;
        let (disp_w, disp_h) = if rotated {
            (shown_h, shown_w)
        } else {
            (shown_w, shown_h)
        };
        let (box_w, box_h) = (self.options.width, self.options.height);
        let (out_w, out_h) = if box_w == 0 || box_h == 0 {
            (disp_w, disp_h)
        } else if self.options.exact_size {
            (box_w as f64, box_h as f64)
        } else {
            let scale = (box_w as f64 / disp_w).min(box_h as f64 / disp_h);
            (disp_w * scale, disp_h * scale)
        };
        let even = |v: f64| -> u32 {
            let v = v.round().max(2.0) as u32;
            if self.options.layout == PixelLayout::Yuv420p {
                v & !1
            } else {
                v
            }
        };
        let (w, h) = (even(out_w), even(out_h));
        if rotated { (h, w) } else { (w, h) }
    }

    /// `convert` for an unrotated stream, into `out`'s buffer.
    fn convert_unrotated_into(
        &mut self,
        raw: &ffmpeg::frame::Video,
        out: &mut VideoFrame,
    ) -> Result<(), MediaError> {
        let scaled = self.scale(raw)?;
        let (w, h) = (scaled.width() as usize, scaled.height() as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let planes: [(usize, usize, usize); 3] = match self.options.layout {
            PixelLayout::Rgb24 => [(w, h, 3), (0, 0, 0), (0, 0, 0)],
            PixelLayout::Gray8 => [(w, h, 1), (0, 0, 0), (0, 0, 0)],
            PixelLayout::Yuv420p => [(w, h, 1), (cw, ch, 1), (cw, ch, 1)],
        };
        out.data.clear();
        for (index, &(pw, ph, bpp)) in planes.iter().enumerate() {
            if pw == 0 {
                continue;
            }
            let stride = scaled.stride(index);
            let plane = scaled.data(index);
            for row in 0..ph {
                let start = row * stride;
                let Some(bytes) = plane.get(start..start + pw * bpp) else {
                    break;
                };
                out.data.extend_from_slice(bytes);
            }
        }
        out.time = self.time_of(raw);
        out.key = raw.is_key();
        out.width = w as u32;
        out.height = h as u32;
        out.layout = self.options.layout;
        Ok(())
    }

    /// Scales `raw` to the requested size and layout (no rotation).
    fn scale(&mut self, raw: &ffmpeg::frame::Video) -> Result<ffmpeg::frame::Video, MediaError> {
        let (src_w, src_h, src_fmt) = (raw.width(), raw.height(), raw.format());
        if src_w == 0 || src_h == 0 || src_fmt == Pixel::None {
            return Err(MediaError::Decode {
                path: self.path.clone(),
                reason: "decoder produced an empty frame".into(),
            });
        }
        let (dst_w, dst_h) = self.target_size(src_w, src_h, raw.aspect_ratio());
        let needs_new = match &self.scaler {
            Some((_, fmt, w, h)) => *fmt != src_fmt || *w != src_w || *h != src_h,
            None => true,
        };
        if needs_new {
            // Averaging areas is the cheaper filter for a picture made much smaller (the
            // small pictures analysis scores, thumbnails) and aliases no more than bilinear
            // there; bilinear for the rest.
            let much_smaller = dst_w.saturating_mul(2) <= src_w && dst_h.saturating_mul(2) <= src_h;
            let filter = if much_smaller {
                scaling::Flags::AREA
            } else {
                scaling::Flags::BILINEAR
            };
            let context = scaling::Context::get(
                src_fmt,
                src_w,
                src_h,
                self.options.layout.ffmpeg(),
                dst_w,
                dst_h,
                filter,
            )
            .map_err(|e| MediaError::Unsupported {
                what: format!("pixel format {src_fmt:?} ({e})"),
                path: self.path.clone(),
            })?;
            self.scaler = Some((context, src_fmt, src_w, src_h));
        }
        let Some((scaler, _, _, _)) = self.scaler.as_mut() else {
            return Err(MediaError::Decode {
                path: self.path.clone(),
                reason: "no scaler".into(),
            });
        };
        let mut scaled = ffmpeg::frame::Video::empty();
        scaler
            .run(raw, &mut scaled)
            .map_err(|e| MediaError::Decode {
                path: self.path.clone(),
                reason: format!("scaling failed ({e})"),
            })?;
        Ok(scaled)
    }

    /// `raw` as an upright YUV 4:2:0 picture at the requested size: the decoder's own pixels
    /// when they already are that, else scaled (and rotated) into a new picture.
    fn picture_of(&mut self, raw: &ffmpeg::frame::Video) -> Result<Picture, MediaError> {
        if self.options.layout != PixelLayout::Yuv420p {
            return Err(MediaError::Unsupported {
                what: format!("pictures from a decoder set to {:?}", self.options.layout),
                path: self.path.clone(),
            });
        }
        let time = self.time_of(raw);
        if self.facts.rotation != 0 {
            let frame = self.convert(raw)?;
            let mut picture = Picture::from_yuv420p(&frame.data, frame.width, frame.height)?;
            picture.set_time(time);
            return Ok(picture);
        }
        let (width, height) = (raw.width(), raw.height());
        if raw.format() == Pixel::YUV420P
            && self.target_size(width, height, raw.aspect_ratio()) == (width, height)
            && let Some(picture) = Picture::share_frame(raw, time)?
        {
            return Ok(picture);
        }
        let scaled = self.scale(raw)?;
        Picture::from_frame(scaled, time).ok_or_else(|| MediaError::Decode {
            path: self.path.clone(),
            reason: "conversion produced no YUV 4:2:0 picture".into(),
        })
    }

    fn convert(&mut self, raw: &ffmpeg::frame::Video) -> Result<VideoFrame, MediaError> {
        let time = self.time_of(raw);
        let key = raw.is_key();
        let scaled = self.scale(raw)?;
        let (w, h) = (scaled.width() as usize, scaled.height() as usize);
        let planes: Vec<(usize, usize, usize)> = match self.options.layout {
            PixelLayout::Rgb24 => vec![(w, h, 3)],
            PixelLayout::Gray8 => vec![(w, h, 1)],
            PixelLayout::Yuv420p => vec![
                (w, h, 1),
                (w.div_ceil(2), h.div_ceil(2), 1),
                (w.div_ceil(2), h.div_ceil(2), 1),
            ],
        };
        let mut data = Vec::with_capacity(planes.iter().map(|(pw, ph, b)| pw * ph * b).sum());
        let mut out_w = w;
        let mut out_h = h;
        for (index, &(pw, ph, bpp)) in planes.iter().enumerate() {
            let stride = scaled.stride(index);
            let plane = scaled.data(index);
            let mut tight = Vec::with_capacity(pw * ph * bpp);
            for row in 0..ph {
                let start = row * stride;
                let Some(bytes) = plane.get(start..start + pw * bpp) else {
                    break;
                };
                tight.extend_from_slice(bytes);
            }
            let (rotated, rw, rh) = rotate_plane(&tight, pw, ph, bpp, self.facts.rotation);
            if index == 0 {
                out_w = rw;
                out_h = rh;
            }
            data.extend_from_slice(&rotated);
        }
        Ok(VideoFrame {
            time,
            width: out_w as u32,
            height: out_h as u32,
            layout: self.options.layout,
            data,
            key,
        })
    }
}

/// The printable settings string an x264 or x265 SEI message carries inside `data`.
fn settings_text(data: &[u8]) -> Option<String> {
    const MARKERS: [&[u8]; 2] = [b"x264 - core", b"x265 (build"];
    let start = MARKERS
        .iter()
        .find_map(|m| data.windows(m.len()).position(|w| w == *m))?;
    let tail = data.get(start..)?;
    let end = tail
        .iter()
        .position(|&b| !(0x20..0x7f).contains(&b))
        .unwrap_or(tail.len());
    tail.get(..end)
        .map(|text| String::from_utf8_lossy(text).into_owned())
}
