@testable import EmuCore
@_spi(Testing) import EmuPOSIX
import Foundation
import SystemPackage
@testable import EmuRecords
@testable import EmuRemote

/// A source and a registered sink in a fresh temporary directory, driven
/// in-process: the unit tests of the push, the checkout and recovery run the
/// real code on real files, and reach its answers to failures through
/// `InjectedFaults`, whose rules name paths inside this directory only.
final class Workbench {
    let root: String
    var sourcePath: String { root + "/source" }
    var sinkPath: String { root + "/sink" }
    let source: Source
    let sink: Sink

    init() throws {
        root = NSTemporaryDirectory() + "emu-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/source", withIntermediateDirectories: true)
        _ = try initializeSource(at: root + "/source", templates: [], force: false)
        source = try Source.locate(explicit: root + "/source")
        _ = try Sink.create(at: root + "/sink")
        let registration = SinkRegistration(name: "disk", path: root + "/sink")
        try source.register(registration)
        sink = try Sink.openOnline(registration)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let full = sourcePath + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @discardableResult
    func push(_ observer: RecordingObserver = RecordingObserver()) throws -> PushResult {
        var options = PushOptions()
        options.rotate = false
        return try EmuCore.push(source, to: sink, options: options, observer: observer)
    }

    func checkout(_ snapshot: Snapshot, to destination: String? = nil, force: Bool = false) throws -> CheckoutResult {
        var options = CheckoutOptions()
        options.destination = destination
        options.force = force
        return try EmuCore.checkout(snapshot, from: sink, source: source, options: options, observer: RecordingObserver())
    }

    /// The path of a file of `snapshot` inside the sink.
    func inSnapshot(_ snapshot: Snapshot, _ path: String) -> String { sinkPath + "/.emu/trees/\(snapshot.id)/" + path }

    func inode(_ path: String) throws -> UInt64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as! NSNumber).uint64Value
    }

    /// Every name below `path` (relative, sorted), for "nothing was left behind".
    func names(below path: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Runs `body` with the sink locked as a command locks it.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try sink.lock(.exclusive, wait: 0)
        defer { sink.unlock() }
        return try body()
    }
}

/// Hears a push or a checkout and keeps what it heard.
final class RecordingObserver: PushObserver, CheckoutObserver, VerifyObserver {
    var skipped: [String] = []
    var notes: [String] = []
    var copied: [String] = []
    var reused: [String] = []
    var warnings: [String] = []

    func skipped(_ path: RelativePath, because error: Error) { skipped.append("\(path): \(error)") }
    func noted(_ path: RelativePath, _ message: String) { notes.append("\(path): \(message)") }
    func copied(_ path: RelativePath, reason: CopyReason, bytes: Int64) { copied.append("\(path)") }
    func progressed(files: Int, bytes: Int64) {}
    func reused(_ path: RelativePath, bytes: Int64) { reused.append("\(path)") }
    func expired(_ snapshot: Snapshot, _ reasons: [String]) {}
    func warned(_ message: String) { warnings.append(message) }
    func planned(_ path: RelativePath, _ action: CheckoutAction) {}
    func found(_ damage: Damage, in snapshot: Snapshot) { notes.append("\(damage)") }
    func skipped(_ snapshot: Snapshot, because reason: String) { notes.append(reason) }
    func notRecorded(_ snapshot: Snapshot) { notes.append("not recorded") }
}
