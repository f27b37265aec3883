//! Media layer: probing and decoding across codecs and containers, exact seeking, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use beatcut::jobs::CancelToken;
use beatcut::media::{self, MediaError, PixelLayout, VideoDecodeOptions, VideoDecoder};
use beatcut::time::{FrameRate, secs_from_ticks, ticks_from_secs};
use common::*;

fn gray_decoder(path: &std::path::Path) -> VideoDecoder {
    VideoDecoder::open(
        path,
        VideoDecodeOptions {
            layout: PixelLayout::Gray8,
            ..Default::default()
        },
    )
    .expect("open decoder")
}

#[test]
fn probes_and_decodes_every_video_format() {
    let dir = temp_dir();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "h264.mp4",
            vec!["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
            "h264",
        ),
        (
            "h265.mkv",
            vec![
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error",
                "-c:a",
                "libopus",
            ],
            "hevc",
        ),
        (
            "vp9.webm",
            vec![
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-c:a",
                "libopus",
            ],
            "vp9",
        ),
        (
            "mpeg4.avi",
            vec!["-c:v", "mpeg4", "-c:a", "libmp3lame"],
            "mpeg4",
        ),
        (
            "prores.mov",
            vec!["-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le"],
            "prores",
        ),
    ];
    for (name, args, codec) in cases {
        let path = pattern_clip(dir.path(), name, "320x180", 25, 2.0, &args);
        let info = media::probe(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let video = info.video().expect("video stream");
        assert_eq!(video.codec, codec, "{name}");
        assert_eq!((video.width, video.height), (320, 180), "{name}");
        assert_eq!(video.frame_rate, FrameRate::whole(25), "{name}");
        assert!(info.audio().is_some(), "{name} has audio");
        assert!(
            (secs_from_ticks(info.duration) - 2.0).abs() < 0.1,
            "{name} duration"
        );
        let mut decoder = gray_decoder(&path);
        let mut count = 0;
        let mut last = -1;
        while let Some(frame) = decoder.next_frame().expect("decode") {
            assert!(frame.time > last, "{name}: timestamps increase");
            last = frame.time;
            count += 1;
        }
        assert_eq!(count, 50, "{name}: every frame decoded");
        let audio = media::decode_audio(&path, 22_050, 1, &CancelToken::new(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{name} audio: {e}"));
        let secs = audio.frames() as f64 / 22_050.0;
        assert!((secs - 2.0).abs() < 0.08, "{name}: audio {secs} s");
    }
}

#[test]
fn exact_seek_lands_on_the_right_frame() {
    let dir = temp_dir();
    // Long GOP so most seeks land far from a keyframe.
    let path = indexed_clip(
        dir.path(),
        "indexed.mp4",
        25,
        150,
        &["-c:v", "libx264", "-qp", "0", "-g", "60", "-bf", "2"],
    );
    let rate = FrameRate::whole(25);
    let mut decoder = gray_decoder(&path);
    for &index in &[0u32, 1, 59, 60, 61, 100, 149, 37, 12, 88] {
        let target = rate.ticks_of_frame(index as i64);
        let frame = decoder.seek_exact(target).expect("seek").expect("frame");
        let got = index_of_gray(&frame.data, frame.width as usize, frame.height as usize);
        assert_eq!(got, index, "seek to frame {index}");
        assert_eq!(frame.time, target);
        // Halfway into the frame still shows the same frame.
        let mid = decoder
            .seek_exact(target + rate.frame_ticks() / 2)
            .expect("seek")
            .expect("frame");
        assert_eq!(
            index_of_gray(&mid.data, mid.width as usize, mid.height as usize),
            index
        );
        // Sequential decoding continues from the seek.
        if index < 149 {
            let next = decoder.next_frame().expect("decode").expect("frame");
            assert_eq!(
                index_of_gray(&next.data, next.width as usize, next.height as usize),
                index + 1
            );
        }
    }
    assert!(
        decoder
            .seek_exact(ticks_from_secs(60.0))
            .expect("seek past end")
            .is_some_and(|f| f.time <= ticks_from_secs(6.0))
    );
}

/// x264, lossless, with a keyframe every 25 frames and nowhere else, and no B-frames.
const KEY_EVERY_25: &[&str] = &[
    "-c:v",
    "libx264",
    "-qp",
    "0",
    "-g",
    "25",
    "-sc_threshold",
    "0",
    "-bf",
    "0",
];

/// A decoder reopened from the first one's stream facts (no probing) decodes the same
/// frames at the same times, and a decoder told to stop feeding at a time hands out the
/// frames before it and then ends, until the next seek.
#[test]
fn reopened_decoder_and_stopped_feed() {
    let dir = temp_dir();
    let path = indexed_clip(dir.path(), "gops.mp4", 25, 100, KEY_EVERY_25);
    let rate = FrameRate::whole(25);
    let index_of =
        |f: &media::VideoFrame| index_of_gray(&f.data, f.width as usize, f.height as usize);
    let mut first = gray_decoder(&path);
    let mut again = first
        .opener()
        .open(VideoDecodeOptions {
            layout: PixelLayout::Gray8,
            ..Default::default()
        })
        .expect("reopen");
    assert_eq!(again.frame_rate(), first.frame_rate());
    assert_eq!(again.duration(), first.duration());
    assert_eq!(again.display_size(), first.display_size());
    let mut frames = 0;
    while let Some(a) = first.next_frame().expect("decode") {
        let b = again
            .next_frame()
            .expect("decode reopened")
            .expect("as many frames");
        assert_eq!((b.time, index_of(&b)), (a.time, index_of(&a)));
        frames += 1;
    }
    assert_eq!(frames, 100);
    assert!(again.next_frame().expect("end").is_none());

    // Fed from the keyframe at frame 25 up to the one at frame 50, not past it.
    again
        .seek_to_keyframe_before(rate.ticks_of_frame(25))
        .expect("seek");
    again.stop_feeding_at(rate.ticks_of_frame(50));
    let mut shown = Vec::new();
    while let Some(f) = again.next_frame().expect("decode") {
        shown.push(index_of(&f));
    }
    assert_eq!(shown, (25..50).collect::<Vec<u32>>());
    // A seek clears it.
    again
        .seek_to_keyframe_before(rate.ticks_of_frame(50))
        .expect("seek");
    let next = again.next_frame().expect("decode").expect("frame");
    assert_eq!(index_of(&next), 50);
    assert!(std::iter::from_fn(|| again.next_frame().expect("decode")).count() == 49);
}

/// Keyframe-only decoding of an MP4 seeks from keyframe to keyframe through the
/// container's index and reads the keyframes' packets only; the same stream remuxed to
/// Matroska (whose index lists keyframes only, if any) is read packet by packet. Both give
/// the same keyframes, with B-frames or without.
#[test]
fn keyframe_scan_jumps_through_the_mp4_index() {
    let dir = temp_dir();
    let rate = FrameRate::whole(25);
    // Lossy (lossless x264 codes no B-frames), two B-frames, keyframes every 25 or sooner.
    let with_b_frames: &[&str] = &[
        "-c:v",
        "libx264",
        "-qp",
        "2",
        "-g",
        "25",
        "-sc_threshold",
        "0",
        "-bf",
        "2",
    ];
    for (name, args, reorders) in [
        ("in-order", KEY_EVERY_25, false),
        ("b-frames", with_b_frames, true),
    ] {
        let mp4 = indexed_clip(dir.path(), &format!("{name}.mp4"), 25, 100, args);
        let mkv = dir.path().join(format!("{name}.mkv"));
        ffmpeg(&[
            "-i",
            &mp4.to_string_lossy(),
            "-c",
            "copy",
            &mkv.to_string_lossy(),
        ]);
        let index = gray_decoder(&mp4).packet_index().expect("packet index");
        let reordered = index.iter().enumerate().any(|(i, p)| p.decode_index != i);
        assert_eq!(reordered, reorders, "{name}: pictures reordered");
        for path in [&mp4, &mkv] {
            let keyframes: Vec<i64> = gray_decoder(path)
                .packet_index()
                .expect("packet index")
                .iter()
                .filter(|p| p.key)
                .map(|p| p.time)
                .collect();
            assert!(keyframes.len() >= 4, "{keyframes:?}");
            let mut decoder = gray_decoder(path);
            decoder.set_keyframes_only(true);
            let mut shown = Vec::new();
            while let Some(f) = decoder.next_frame().expect("decode") {
                let index = index_of_gray(&f.data, f.width as usize, f.height as usize);
                assert_eq!(f.time, rate.ticks_of_frame(i64::from(index)));
                shown.push(f.time);
            }
            // With reordering delay the keyframes may come out of order (two IDR pictures
            // both count as picture 0): the scan sorts them by time.
            shown.sort_unstable();
            assert_eq!(shown, keyframes, "{}", path.display());
            let read = decoder.video_packets_read();
            if path == &mp4 {
                assert_eq!(
                    read,
                    keyframes.len() as u64,
                    "{}: only keyframes are read",
                    path.display()
                );
            } else {
                assert_eq!(read, 100, "{}: every packet is read", path.display());
            }
        }
    }
}

/// The packet index of an in-order MP4 comes from the container's sample table (one packet
/// read, for the encoder's settings) and equals the index read packet by packet: with an
/// audio track interleaved, with variable frame spacing and a rotation, and cut with an
/// edit list that drops the pictures before its start. A stream with B-frames (H.264, HEVC,
/// MPEG-4 Part 2), or in Matroska, is read packet by packet.
#[test]
fn packet_index_from_the_mp4_sample_table_matches_reading_every_packet() {
    let dir = temp_dir();
    let source = |name: &str| {
        indexed_clip(dir.path(), name, 25, 100, KEY_EVERY_25)
            .to_string_lossy()
            .to_string()
    };
    let plain = source("plain.mp4");
    let with_audio = dir.path().join("with-audio.mp4");
    ffmpeg(&[
        "-i",
        &plain,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=4",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-shortest",
        &with_audio.to_string_lossy(),
    ]);
    let vfr = dir.path().join("vfr-rotated.mp4");
    let vfr_out = vfr.to_string_lossy();
    let mut vfr_args = vec![
        "-i",
        &plain,
        "-vf",
        "setpts='(N*0.04+0.02*floor(N/10))/TB'",
        "-fps_mode",
        "passthrough",
    ];
    vfr_args.extend_from_slice(KEY_EVERY_25);
    vfr_args.extend_from_slice(&["-metadata:s:v", "rotate=90", &vfr_out]);
    ffmpeg(&vfr_args);
    let edited = dir.path().join("edit-list.mp4");
    ffmpeg(&[
        "-ss",
        "0.5",
        "-i",
        &plain,
        "-c",
        "copy",
        &edited.to_string_lossy(),
    ]);
    let b_frames = indexed_clip(
        dir.path(),
        "b-frames.mp4",
        25,
        100,
        &["-c:v", "libx264", "-qp", "2", "-g", "25", "-bf", "2"],
    );
    // Reordering other encoders write: HEVC and MPEG-4 Part 2 with B-frames.
    let hevc_b_frames = indexed_clip(
        dir.path(),
        "hevc-b-frames.mp4",
        25,
        100,
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "bframes=3:keyint=25:log-level=error",
            "-tag:v",
            "hvc1",
        ],
    );
    let mpeg4_b_frames = indexed_clip(
        dir.path(),
        "mpeg4-b-frames.mp4",
        25,
        100,
        &["-c:v", "mpeg4", "-q:v", "2", "-g", "25", "-bf", "2"],
    );
    let mkv = dir.path().join("plain.mkv");
    ffmpeg(&["-i", &plain, "-c", "copy", &mkv.to_string_lossy()]);
    let cases = [
        (std::path::PathBuf::from(&plain), true),
        (with_audio, true),
        (vfr, true),
        (edited, true),
        (b_frames, false),
        (hevc_b_frames, false),
        (mpeg4_b_frames, false),
        (mkv, false),
    ];
    for (path, from_table) in cases {
        let mut listed = gray_decoder(&path);
        let index = listed.packet_index().expect("packet index");
        let mut reader = gray_decoder(&path);
        let read = reader.read_packet_index().expect("read packet index");
        assert_eq!(index, read, "{}", path.display());
        assert_eq!(
            listed.encoder_settings().is_some(),
            reader.encoder_settings().is_some(),
            "{}: the encoder's settings",
            path.display()
        );
        assert!(
            index.len() >= 50,
            "{}: {} packets",
            path.display(),
            index.len()
        );
        let expected_reads = if from_table { 1 } else { read.len() as u64 };
        assert_eq!(
            listed.index_packets_read(),
            expected_reads,
            "{}: packets read for the index",
            path.display()
        );
        // The decoder still starts at the first picture shown (an edit list drops those
        // before its start).
        let first = listed.next_frame().expect("decode").expect("a frame");
        let first_shown = index.iter().map(|p| p.time).find(|&t| t >= 0);
        assert_eq!(Some(first.time), first_shown, "{}", path.display());
    }
}

/// A file name need not be UTF-8 on Unix: such a file is probed, decoded and reopened like
/// any other, and an export into such a folder is refused with a message, not a panic.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir();
    let plain = pattern_clip(
        dir.path(),
        "plain.mp4",
        "160x96",
        25,
        1.0,
        &["-c:v", "libx264"],
    );
    let odd = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9 take 1.mp4"));
    std::fs::copy(&plain, &odd).expect("copy");
    let info = media::probe(&odd).expect("probe");
    assert!(info.video().is_some());
    let mut decoder = gray_decoder(&odd);
    assert!(decoder.next_frame().expect("decode").is_some());
    let mut reopened = decoder
        .opener()
        .open(VideoDecodeOptions::default())
        .expect("reopen");
    assert!(reopened.next_frame().expect("decode").is_some());

    let odd_folder = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9"));
    std::fs::create_dir_all(&odd_folder).expect("mkdir");
    let refused = media::Mp4Writer::create(
        &odd_folder.join("out.mp4"),
        media::VideoEncodeSettings {
            width: 160,
            height: 96,
            fps: FrameRate::whole(25),
            crf: 23,
            preset: "veryfast".into(),
            threads: 1,
            gop: 25,
        },
        None,
    );
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn mpeg_ts_with_start_time_is_measured_from_first_frame() {
    let dir = temp_dir();
    let path = indexed_clip(
        dir.path(),
        "start.ts",
        25,
        50,
        &["-c:v", "libx264", "-qp", "0", "-output_ts_offset", "10"],
    );
    let info = media::probe(&path).expect("probe");
    assert!(
        secs_from_ticks(info.start_time) > 9.0,
        "container start time kept: {}",
        secs_from_ticks(info.start_time)
    );
    let mut decoder = gray_decoder(&path);
    let first = decoder.next_frame().expect("decode").expect("frame");
    assert_eq!(first.time, 0);
    let frame = decoder
        .seek_exact(FrameRate::whole(25).ticks_of_frame(30))
        .expect("seek")
        .expect("frame");
    assert_eq!(
        index_of_gray(&frame.data, frame.width as usize, frame.height as usize),
        30
    );
}

#[test]
fn variable_frame_rate_uses_real_timestamps() {
    let dir = temp_dir();
    let cfr = indexed_clip(
        dir.path(),
        "cfr.mp4",
        30,
        90,
        &["-c:v", "libx264", "-qp", "0"],
    );
    // Drop frames irregularly and keep the original timestamps: a VFR file.
    let vfr = dir.path().join("vfr.mp4");
    ffmpeg(&[
        "-i",
        cfr.to_str().expect("utf8"),
        "-vf",
        "select='not(mod(n\\,3))+gt(n\\,60)'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        vfr.to_str().expect("utf8"),
    ]);
    let info = media::probe(&vfr).expect("probe");
    assert!(
        info.video().expect("video").variable_frame_rate,
        "detected as VFR"
    );
    let mut decoder = gray_decoder(&vfr);
    while let Some(frame) = decoder.next_frame().expect("decode") {
        let index = index_of_gray(&frame.data, frame.width as usize, frame.height as usize);
        // The timestamp is the original frame's time, whatever was dropped before it.
        assert_eq!(FrameRate::whole(30).nearest_frame(frame.time), index as i64);
    }
    let frame = decoder
        .seek_exact(FrameRate::whole(30).ticks_of_frame(10))
        .expect("seek")
        .expect("frame");
    // Frames 10 and 11 were dropped; frame 9 is the one on screen at frame 10's time.
    assert_eq!(
        index_of_gray(&frame.data, frame.width as usize, frame.height as usize),
        9
    );
}

#[test]
fn rotation_metadata_is_applied() {
    let dir = temp_dir();
    let plain = pattern_clip(
        dir.path(),
        "plain.mp4",
        "320x180",
        25,
        1.0,
        &["-c:v", "libx264"],
    );
    let rotated = dir.path().join("rotated.mp4");
    ffmpeg(&[
        "-i",
        plain.to_str().expect("utf8"),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        rotated.to_str().expect("utf8"),
    ]);
    let info = media::probe(&rotated).expect("probe");
    let video = info.video().expect("video");
    assert_eq!(video.rotation % 180, 90);
    assert_eq!((video.display_width, video.display_height), (180, 320));
    let mut decoder = VideoDecoder::open(
        &rotated,
        VideoDecodeOptions {
            width: 90,
            height: 160,
            ..Default::default()
        },
    )
    .expect("open");
    let frame = decoder.next_frame().expect("decode").expect("frame");
    assert_eq!((frame.width, frame.height), (90, 160));
    // A decoder reopened from the first one's stream facts turns the picture too.
    let mut reopened = decoder
        .opener()
        .open(VideoDecodeOptions {
            width: 90,
            height: 160,
            ..Default::default()
        })
        .expect("reopen");
    assert_eq!(reopened.rotation(), decoder.rotation());
    let again = reopened.next_frame().expect("decode").expect("frame");
    assert_eq!(
        (again.width, again.height, again.data.len()),
        (90, 160, frame.data.len())
    );
    assert_eq!(again.data, frame.data);
}

#[test]
fn portrait_9_16_keeps_its_shape() {
    let dir = temp_dir();
    let path = pattern_clip(
        dir.path(),
        "portrait.mp4",
        "180x320",
        30,
        1.0,
        &["-c:v", "libx264"],
    );
    let info = media::probe(&path).expect("probe");
    let video = info.video().expect("video");
    assert!((video.display_aspect() - 9.0 / 16.0).abs() < 0.01);
    let mut decoder = VideoDecoder::open(
        &path,
        VideoDecodeOptions {
            width: 320,
            height: 320,
            ..Default::default()
        },
    )
    .expect("open");
    let frame = decoder.next_frame().expect("decode").expect("frame");
    assert_eq!((frame.width, frame.height), (180, 320));
}

#[test]
fn decodes_audio_formats_at_requested_rate_and_layout() {
    let dir = temp_dir();
    let cases: Vec<(&str, u32, u32, Vec<&str>)> = vec![
        ("a.wav", 44_100, 2, vec![]),
        ("b.wav", 48_000, 1, vec![]),
        ("c.mp3", 44_100, 2, vec!["-c:a", "libmp3lame"]),
        ("d.mp3", 48_000, 1, vec!["-c:a", "libmp3lame"]),
        ("e.ogg", 48_000, 2, vec!["-c:a", "libvorbis"]),
        ("f.flac", 44_100, 1, vec![]),
        ("i.flac", 8_000, 1, vec![]),
        ("j.wav", 96_000, 2, vec![]),
        ("g.m4a", 44_100, 2, vec!["-c:a", "aac"]),
        ("h.m4a", 48_000, 1, vec!["-c:a", "aac"]),
    ];
    for (name, rate, channels, args) in cases {
        let path = tone(dir.path(), name, rate, channels, 3.0, &args);
        let info = media::probe(&path).expect("probe");
        let audio_info = info.audio().expect("audio stream");
        assert_eq!(audio_info.sample_rate, rate, "{name}");
        assert_eq!(audio_info.channels as u32, channels, "{name}");
        for (want_rate, want_channels) in [(22_050u32, 1u16), (48_000, 2)] {
            let mut streamed = 0usize;
            let audio = media::decode_audio(
                &path,
                want_rate,
                want_channels,
                &CancelToken::new(),
                &mut |chunk| streamed += chunk.len(),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(audio.rate, want_rate);
            assert_eq!(audio.channels, want_channels);
            assert_eq!(
                streamed,
                audio.samples.len(),
                "{name}: chunks cover everything"
            );
            let secs = audio.frames() as f64 / want_rate as f64;
            assert!((secs - 3.0).abs() < 0.06, "{name}: {secs} s");
            // Lossless sources carry no codec padding: resampling keeps the length exactly.
            if name.ends_with(".wav") || name.ends_with(".flac") {
                assert_eq!(
                    audio.frames(),
                    3 * want_rate as usize,
                    "{name}: exact length"
                );
            }
            let rms = (audio.samples.iter().map(|s| s * s).sum::<f32>()
                / audio.samples.len() as f32)
                .sqrt();
            assert!(rms > 0.05, "{name}: tone survives ({rms})");
        }
    }
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = temp_dir();
    let d = dir.path();
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").expect("write");
    assert!(matches!(
        media::probe(&empty),
        Err(MediaError::Empty { .. })
    ));

    let text = d.join("notes.mp4");
    std::fs::write(&text, "this is not a video\n".repeat(100)).expect("write");
    let message = media::probe(&text)
        .expect_err("text is not media")
        .to_string();
    assert!(message.contains("notes.mp4"), "{message}");

    let random = d.join("random.mov");
    let bytes: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, bytes).expect("write");
    assert!(media::probe(&random).is_err());
    assert!(VideoDecoder::open(&random, VideoDecodeOptions::default()).is_err());

    let missing = d.join("missing.mp4");
    assert!(matches!(media::probe(&missing), Err(MediaError::Io { .. })));

    // An MP3 named .mp4: read for what it is; a video decoder says there is no video.
    let mp3 = tone(d, "song.mp3", 44_100, 2, 1.0, &["-c:a", "libmp3lame"]);
    let disguised = d.join("song.mp4");
    std::fs::copy(&mp3, &disguised).expect("copy");
    assert!(
        media::probe(&disguised)
            .expect("probe by content")
            .audio()
            .is_some()
    );
    let err = VideoDecoder::open(&disguised, VideoDecodeOptions::default())
        .err()
        .expect("no video");
    assert!(
        matches!(err, MediaError::NoStream { kind: "video", .. }),
        "{err}"
    );

    // Truncated with the index at the front: decodes what is there, with a warning or a short count.
    let whole = pattern_clip(
        d,
        "whole.mp4",
        "320x180",
        25,
        4.0,
        &["-c:v", "libx264", "-movflags", "+faststart"],
    );
    let data = std::fs::read(&whole).expect("read");
    let truncated = d.join("truncated.mp4");
    std::fs::write(&truncated, &data[..data.len() / 2]).expect("write");
    // The index is at the front: the first half opens and decodes up to where it stops.
    let mut decoder = VideoDecoder::open(
        &truncated,
        VideoDecodeOptions {
            layout: PixelLayout::Gray8,
            ..Default::default()
        },
    )
    .expect("a file truncated after its index opens");
    let mut frames = 0;
    while let Ok(Some(_)) = decoder.next_frame() {
        frames += 1;
    }
    assert!(
        (1..100).contains(&frames),
        "{frames} of 100 frames from half a file"
    );
    // Truncated with the index at the end: cannot be opened, says why.
    let whole_end = pattern_clip(d, "whole_end.mp4", "320x180", 25, 2.0, &["-c:v", "libx264"]);
    let data = std::fs::read(&whole_end).expect("read");
    let cut = d.join("cut.mp4");
    std::fs::write(&cut, &data[..data.len() / 2]).expect("write");
    let message = media::probe(&cut)
        .expect_err("a file cut before its index cannot be probed")
        .to_string();
    assert!(message.contains("cut.mp4"), "{message}");

    // Corrupt in the middle: still decodes to the end, with warnings rather than failure.
    let ts = pattern_clip(d, "clip.ts", "320x180", 25, 4.0, &["-c:v", "libx264"]);
    let mut data = std::fs::read(&ts).expect("read");
    let mid = data.len() / 2;
    for byte in &mut data[mid..mid + 20_000] {
        *byte = byte.wrapping_mul(31).wrapping_add(7);
    }
    let corrupt = d.join("corrupt.ts");
    std::fs::write(&corrupt, &data).expect("write");
    let mut decoder = VideoDecoder::open(
        &corrupt,
        VideoDecodeOptions {
            layout: PixelLayout::Gray8,
            ..Default::default()
        },
    )
    .expect("open corrupt");
    let mut frames = 0;
    let mut last = 0;
    loop {
        match decoder.next_frame() {
            Ok(Some(frame)) => {
                frames += 1;
                last = frame.time;
            }
            Ok(None) => break,
            Err(_) => continue,
        }
    }
    assert!(frames > 40, "most frames survive ({frames})");
    assert!(secs_from_ticks(last) > 3.5, "decoding reaches the end");

    // Audio expected but absent.
    let silent_video = d.join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x90:d=1",
        "-c:v",
        "libx264",
        silent_video.to_str().expect("utf8"),
    ]);
    let err = media::decode_audio(&silent_video, 22_050, 1, &CancelToken::new(), &mut |_| {})
        .expect_err("no audio");
    assert!(
        matches!(err, MediaError::NoStream { kind: "audio", .. }),
        "{err}"
    );
}

#[test]
fn cli_probe_reports_each_file_and_fails_on_bad_ones() {
    let dir = temp_dir();
    let good = pattern_clip(
        dir.path(),
        "good.mp4",
        "160x90",
        25,
        1.0,
        &["-c:v", "libx264"],
    );
    let bad = dir.path().join("bad.mp4");
    std::fs::write(&bad, b"garbage").expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_beatcut"))
        .args(["probe", "--json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .expect("run beatcut");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["streams"][0]["codec"], "h264");
    assert!(
        lines[1]["error"]
            .as_str()
            .expect("error")
            .contains("bad.mp4")
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn mp4_audio_starts_without_encoder_priming() {
    // AAC in MP4 carries 1024 priming samples that the edit list says to drop: a click at
    // 0.5 s must decode at 0.5 s, not 23 ms later (what a player and an NLE hear).
    let dir = temp_dir();
    for name in ["click.m4a", "click-in-mov.mov"] {
        let path = dir.path().join(name);
        let out = path.to_string_lossy().to_string();
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "aevalsrc='if(between(t,0.5,0.51),0.9*sin(2*PI*2000*t),0)':s=44100:d=2",
            "-c:a",
            "aac",
            &out,
        ]);
        let audio = media::decode_audio(&path, 44_100, 1, &CancelToken::new(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let first = audio
            .samples
            .iter()
            .position(|s| s.abs() > 0.3)
            .expect("click decoded");
        let at = first as f64 / 44_100.0;
        assert!((at - 0.5).abs() < 0.004, "{name}: click at {at:.4} s");
    }
}

/// CRC-32 of an Ogg page (polynomial 0x04c11db7, no reflection, zero start), computed with
/// the page's own CRC field zeroed.
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in page {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Lowers the granule position of every `every`-th audio page by `by` samples (CRC fixed),
/// as muxers that mix or re-time audio leave them: the pages then claim fewer samples than
/// their packets hold.
fn lower_ogg_granules(bytes: &mut [u8], every: usize, by: i64) -> usize {
    let mut pos = 0;
    let mut page_no = 0;
    let mut changed = 0;
    while pos + 27 <= bytes.len() && &bytes[pos..pos + 4] == b"OggS" {
        let segments = bytes[pos + 26] as usize;
        let body: usize = bytes[pos + 27..pos + 27 + segments]
            .iter()
            .map(|&s| s as usize)
            .sum();
        let len = 27 + segments + body;
        let granule = i64::from_le_bytes(bytes[pos + 6..pos + 14].try_into().unwrap());
        // Pages 0-2 hold the headers; the last page keeps its true end.
        let last = pos + len >= bytes.len();
        if page_no >= 3 && !last && granule > by && page_no % every == 0 {
            bytes[pos + 6..pos + 14].copy_from_slice(&(granule - by).to_le_bytes());
            bytes[pos + 22..pos + 26].fill(0);
            let crc = ogg_crc(&bytes[pos..pos + len]);
            bytes[pos + 22..pos + 26].copy_from_slice(&crc.to_le_bytes());
            changed += 1;
        }
        pos += len;
        page_no += 1;
    }
    changed
}

#[test]
fn ogg_pages_short_of_their_packets_do_not_drop_samples() {
    // A real song mixed by FFmpeg had pages like these: symphonia trimmed 448 samples at each,
    // so the decoded audio ran 130 ms early after three minutes and every beat drifted onto
    // the off-beat. FFmpeg and libvorbis play every sample; so must we.
    let dir = temp_dir();
    let path = dir.path().join("clicks.ogg");
    let out = path.to_string_lossy().to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='if(lt(mod(t,1),0.01),0.9*sin(2*PI*2000*t),0)':s=44100:d=30",
        "-c:a",
        "libvorbis",
        &out,
    ]);
    let mut bytes = std::fs::read(&path).unwrap();
    let changed = lower_ogg_granules(&mut bytes, 4, 448);
    assert!(changed >= 5, "only {changed} pages changed");
    std::fs::write(&path, &bytes).unwrap();
    let audio = media::decode_audio(&path, 44_100, 1, &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(audio.decoder, "symphonia");
    let frames = audio.frames() as i64;
    assert!(
        (frames - 30 * 44_100).abs() <= 64,
        "{frames} frames decoded for 30 s at 44.1 kHz"
    );
    // The click of second 28 is still at 28 s.
    let from = 27_900 * 441 / 10;
    let first = audio.samples[from..]
        .iter()
        .position(|s| s.abs() > 0.3)
        .expect("click decoded")
        + from;
    let at = first as f64 / 44_100.0;
    assert!(
        (at - 28.0).abs() < 0.002,
        "click of 28 s decoded at {at:.4} s"
    );
}

#[test]
fn when_both_decoders_refuse_a_file_the_message_names_both() {
    let dir = temp_dir();
    let path = dir.path().join("noise.ogg");
    // Bytes that no demuxer takes for media (a fixed pseudo-random pattern).
    let mut x = 0x2545_f491_u32;
    let bytes: Vec<u8> = (0..8000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    for message in [
        media::probe(&path).unwrap_err().to_string(),
        media::decode_audio(&path, 22_050, 1, &CancelToken::new(), &mut |_| {})
            .unwrap_err()
            .to_string(),
    ] {
        assert!(message.contains("FFmpeg: "), "{message}");
        assert!(message.contains("symphonia: "), "{message}");
        assert!(message.ends_with("noise.ogg"), "{message}");
    }
}

#[test]
fn symphonia_probe_describes_audio_like_ffmpeg() {
    // The fallback used when FFmpeg refuses a file (a Vorbis setup header FFmpeg 5.1 fails
    // on, for one) must describe it as FFmpeg would.
    let dir = temp_dir();
    for (name, extra) in [
        ("tone.ogg", &["-c:a", "libvorbis"][..]),
        ("tone.flac", &[][..]),
        ("tone.wav", &[][..]),
    ] {
        let path = tone(dir.path(), name, 44_100, 2, 3.0, extra);
        let by_ffmpeg = media::probe(&path).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let by_symphonia = media::probe_with_symphonia(&path, size).unwrap();
        let (a, b) = (by_ffmpeg.audio().unwrap(), by_symphonia.audio().unwrap());
        assert_eq!(a.sample_rate, b.sample_rate, "{name}");
        assert_eq!(a.channels, b.channels, "{name}");
        assert!(by_symphonia.video().is_none(), "{name}");
        let (da, db) = (
            beatcut::time::secs_from_ticks(by_ffmpeg.duration),
            beatcut::time::secs_from_ticks(by_symphonia.duration),
        );
        assert!((da - db).abs() < 0.05, "{name}: {da} vs {db}");
    }
}
