import CEmuShims
import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import EmuRecords
import EmuRemote

/// Where a command's words go: data to stdout, messages to stderr, each
/// with colour when it is a terminal (or --color always).
final class Terminal: Sendable {
    let verbose: Bool
    let quiet: Bool
    let colorsStandardError: Bool
    let colorsStandardOutput: Bool
    /// `TERM=dumb`: no colour, no pager, no redrawn progress line.
    let isDumb = getenv("TERM").map { String(cString: $0) == "dumb" } ?? false

    /// `NO_COLOR` set to anything but the empty string (no-color.org).
    static let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false

    init(verbose: Bool, quiet: Bool, color: ColorChoice) {
        self.verbose = verbose
        self.quiet = quiet
        switch color {
        case .always: colorsStandardError = true; colorsStandardOutput = true
        case .never: colorsStandardError = false; colorsStandardOutput = false
        case .auto:
            let plain = Self.noColor || isDumb
            colorsStandardError = isatty(STDERR_FILENO) == 1 && !plain
            colorsStandardOutput = isatty(STDOUT_FILENO) == 1 && !plain
        }
    }

    static let standardError = Terminal(verbose: false, quiet: false, color: .auto)

    enum Color: String {
        case red = "31", green = "32", yellow = "33", bold = "1", dim = "2"
    }

    func paint(_ text: String, _ color: Color, forOutput: Bool = false) -> String {
        (forOutput ? colorsStandardOutput : colorsStandardError) ? "\u{1b}[\(color.rawValue)m\(text)\u{1b}[0m" : text
    }

    /// A line of data on stdout, its names as the bytes they are.
    func output(_ line: String) {
        var bytes = line.fileSystemBytes
        bytes.append(0x0A)
        _ = bytes.withUnsafeBytes { emu_write_standard_output($0.baseAddress, $0.count) }
    }

    /// A message on stderr, unless -q.
    func info(_ line: String) {
        guard !quiet else { return }
        ProgressLine.clear()
        writeStandardError(line + "\n")
    }

    /// A message on stderr with -v only.
    func detail(_ line: String) {
        guard verbose && !quiet else { return }
        ProgressLine.clear()
        writeStandardError(line + "\n")
    }

    /// A warning: always shown.
    func warning(_ line: String) {
        ProgressLine.clear()
        writeStandardError(paint("emu: warning: ", .yellow) + line + "\n")
    }

    func error(_ message: String, fix: String?) {
        ProgressLine.clear()
        var text = paint("emu: error: ", .red) + message + "\n"
        if let fix { text += "  fix: " + fix + "\n" }
        writeStandardError(text)
    }
}

/// The one progress line on stderr (files, bytes, rate), redrawn at most
/// five times a second; shown on a terminal or with --progress.
final class ProgressLine {
    nonisolated(unsafe) static var active = false
    let enabled: Bool
    /// Redrawn in place on a terminal; elsewhere (`--progress 2> FILE`) one line a second, without escapes.
    let redraws = isatty(STDERR_FILENO) == 1
    let started = monotonicSeconds()
    var lastDrawn = 0.0

    init(enabled: Bool) { self.enabled = enabled }

    static func decide(terminal: Terminal, forced: Bool) -> Bool {
        forced || (!terminal.quiet && isatty(STDERR_FILENO) == 1 && !terminal.isDumb)
    }

    func update(files: Int, bytes: Int64, total: ProgressTotal? = nil, prefix: String = "") {
        guard enabled else { return }
        let now = monotonicSeconds()
        guard now - lastDrawn >= (redraws ? 0.2 : 1) else { return }
        lastDrawn = now
        let text = prefix + Self.text(files: files, bytes: bytes, total: total, elapsed: now - started)
        guard redraws else { return writeStandardError(text + "\n") }
        writeStandardError("\r\u{1b}[K" + text)
        Self.active = true
    }

    /// The line after `elapsed` seconds.
    static func text(files: Int, bytes: Int64, total: ProgressTotal?, elapsed: Double) -> String {
        let elapsed = max(elapsed, 0.001)
        var line = "\(plural(files, "file")), \(formatBytes(bytes))"
        // A rate from the first second measures the cache, not the link (3.6 GiB/s on a 2 MB/s one).
        if elapsed >= 1 { line += ", \(formatBytes(Int64(Double(bytes) / elapsed)))/s" }
        if let missing = total?.missing { return line + " (\(missing))" }
        // An ETA from the first fraction of a second is noise (a rate from a few
        // files' worth of cache): it waits for two seconds of measurement.
        guard let fraction = total?.fraction(files: files, bytes: bytes), fraction > 0, elapsed >= 2 else { return line }
        // Past an estimate (the source grew since the newest snapshot): no percentage can be true.
        guard fraction < 1 || total?.isExact == true else { return line + ", more than the newest snapshot held" }
        let remaining = elapsed * max(0, 1 - fraction) / fraction
        return line + ", \(Int((min(fraction, 1) * 100).rounded()))%, ETA \(formatDuration(remaining))"
    }

    static func clear() {
        guard active else { return }
        writeStandardError("\r\u{1b}[K")
        active = false
    }
}

/// What a progress line measures against: the bytes (and files) the work
/// holds, known (a checkout) or estimated (a push, from the newest
/// snapshot's counts); or, with `missing`, why there is no estimate.
struct ProgressTotal {
    var files: Int? = nil
    var bytes: Int64? = nil
    /// Known, not estimated: it can be reached.
    var isExact = true
    var missing: String? = nil

    /// A push's: the newest snapshot's counts, or none for a first push.
    static func estimate(from newest: Snapshot?) -> ProgressTotal {
        guard let newest else { return ProgressTotal(isExact: false, missing: "first push: no estimate") }
        return ProgressTotal(files: newest.counts.files, bytes: newest.counts.bytes, isExact: false)
    }

    /// How far along: by bytes when they are known, else by files.
    func fraction(files done: Int, bytes doneBytes: Int64) -> Double? {
        if let bytes, bytes > 0 { return Double(doneBytes) / Double(bytes) }
        if let files, files > 0 { return Double(done) / Double(files) }
        return nil
    }
}

/// Refuses to write a document meant for a program (an archive, a page) on
/// a terminal, where it would be garbage: `why` says what it is.
func refuseTerminalOutput(_ why: String, fix: String) throws {
    guard isatty(STDOUT_FILENO) == 1 else { return }
    throw EmuError.usage("standard output is a terminal; \(why)", fix: fix)
}

/// Writes to fd 2 at once, unbuffered, as messages should be.
func writeStandardError(_ text: String) {
    var bytes = text.fileSystemBytes
    bytes.withUnsafeMutableBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(STDERR_FILENO, buffer.baseAddress! + done, buffer.count - done)
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            done += n
        }
    }
}

func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(s % 60)s" }
    return "\(s / 3600)h\((s % 3600) / 60)m"
}
