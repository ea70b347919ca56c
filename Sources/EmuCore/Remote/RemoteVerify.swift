import EmuPOSIX

/// `emu verify` of a remote sink runs on the server, where the data is:
/// the server's Verifier reads the snapshot and streams each finding; only
/// the findings cross the channel.
///
/// Findings travel as `data` frames of tab-separated fields:
/// `found KIND PATH-HEX DETAIL`, `skipped REASON`, `progress FILES BYTES`,
/// and last `read FILES BYTES UNHELD`.
extension SinkServer {
    func answerVerify(_ words: [String]) throws {
        let sample = Double(words.count > 2 ? words[2] : "") ?? 100
        let relay = FindingRelay(writer)
        let verifier = Verifier(samplePercent: sample, observer: relay)
        var unheld = 0
        if words[1] == "sink" {
            let anySnapshot = try sink!.snapshots().last ?? Snapshot(id: "", parent: nil, date: .now())
            if let damage = try verifier.verifyHead(of: sink!) { relay.found(damage, in: anySnapshot) }
            unheld = try verifier.verifyIndex(of: sink!) { relay.found($0, in: anySnapshot) }.unheld
        } else {
            _ = try verifier.verify(try snapshot(words[1]), in: sink!)
        }
        try relay.failure.map { throw $0 }
        try writer.send(Frame(.data, text: "read\t\(verifier.filesRead)\t\(verifier.bytesRead)\t\(unheld)"))
        try writer.send(Frame(.end))
    }
}

/// Sends what a verifier finds as it finds it.
final class FindingRelay: VerifyObserver {
    let writer: FrameWriter
    var failure: Error? = nil
    var lastProgress = monotonicSeconds()

    init(_ writer: FrameWriter) { self.writer = writer }

    func send(_ text: String) {
        guard failure == nil else { return }
        do { try writer.send(Frame(.data, text: text)) } catch { failure = error }
    }

    func found(_ damage: Damage, in snapshot: Snapshot) {
        send("found\t\(damage.kind.rawValue)\t\(RemoteSink.hex(damage.path.bytes))\t\(damage.detail.replacingTabsAndNewlines())")
    }

    func skipped(_ snapshot: Snapshot, because reason: String) { send("skipped\t\(reason.replacingTabsAndNewlines())") }

    func progressed(files: Int, bytes: Int64) {
        // Twice a second is enough for a progress line.
        guard monotonicSeconds() - lastProgress >= 0.5 else { return }
        lastProgress = monotonicSeconds()
        send("progress\t\(files)\t\(bytes)")
    }
}

/// What a verify on the server found and read.
public struct RemoteVerification: Sendable {
    public var damages: [Damage] = []
    public var filesRead = 0
    public var bytesRead: Int64 = 0
    /// Content index entries no snapshot holds (a whole sink's verify).
    public var unheld = 0
}

extension RemoteSink {
    /// Verifies `snapshot` (nil: the sink's HEAD and content index) on the
    /// server, telling `observer` each finding as it arrives.
    public func verifyOnServer(_ snapshot: Snapshot?, samplePercent: Double, observer: VerifyObserver, reportingAs shown: Snapshot)
        throws -> RemoteVerification {
        let stream = try self.stream("verify \(snapshot?.id ?? "sink") \(samplePercent)")
        var result = RemoteVerification()
        while let piece = try stream.nextPiece() {
            let fields = String(decoding: piece, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "found" where fields.count == 4:
                let damage = Damage(kind: Damage.Kind(rawValue: fields[1]) ?? .manifest, path: RelativePath(Self.bytes(hex: fields[2])),
                                    detail: fields[3])
                result.damages.append(damage)
                observer.found(damage, in: shown)
            case "skipped" where fields.count == 2: observer.skipped(shown, because: fields[1])
            case "progress" where fields.count == 3: observer.progressed(files: Int(fields[1]) ?? 0, bytes: Int64(fields[2]) ?? 0)
            case "read" where fields.count == 4:
                (result.filesRead, result.bytesRead, result.unheld) = (Int(fields[1]) ?? 0, Int64(fields[2]) ?? 0, Int(fields[3]) ?? 0)
            default:
                throw EmuError.failed("\(server) sent a finding emu does not know: \(fields.first ?? "")",
                                      fix: "install the same version of emu on both machines")
            }
        }
        return result
    }
}

extension String {
    func replacingTabsAndNewlines() -> String {
        String(map { $0 == "\t" || $0 == "\n" ? " " : $0 })
    }

    func leftPadded(_ width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
