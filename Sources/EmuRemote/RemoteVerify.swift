import EmuPOSIX
import EmuCore
import EmuRecords

/// `emu verify` of a remote sink runs on the server, where the data is:
/// the server's Verifier reads the snapshot and streams each finding; only
/// the findings cross the channel.
///
/// Findings travel as `data` frames of tab-separated fields:
/// `found KIND PATH-HEX DETAIL`, `skipped REASON`, `progress FILES BYTES`,
/// and last `read FILES BYTES UNHELD`.
extension SinkServer {
    package func answerVerify(_ id: String?, samplePercent sample: Double) throws {
        let relay = FindingRelay(writer)
        let snapshot = try id.map(snapshot)
        let shown = try snapshot ?? sink!.snapshots().last ?? Snapshot(id: "", parent: nil, date: .now())
        let found = try sink!.verifier(samplePercent: sample, observer: relay).verify(snapshot, reportingAs: shown)
        try relay.failure.map { throw $0 }
        try writer.send(Frame(.data, text: "read\t\(found.filesRead)\t\(found.bytesRead)\t\(found.unheld)"))
        try writer.send(Frame(.end))
    }
}

/// Sends what a verifier finds as it finds it.
package final class FindingRelay: VerifyObserver {
    package let writer: FrameWriter
    package var failure: Error? = nil
    package var lastProgress = monotonicSeconds()

    package init(_ writer: FrameWriter) { self.writer = writer }

    package func send(_ text: String) {
        guard failure == nil else { return }
        do { try writer.send(Frame(.data, text: text)) } catch { failure = error }
    }

    package func found(_ damage: Damage, in snapshot: Snapshot) {
        send("found\t\(damage.kind.rawValue)\t\(RemoteSink.hex(damage.path.bytes))\t\(damage.detail.replacingTabsAndNewlines())")
    }

    package func skipped(_ snapshot: Snapshot, because reason: String) { send("skipped\t\(reason.replacingTabsAndNewlines())") }

    /// What a key may not write it does not keep; the client hears the findings all the same.
    package func notRecorded(_ snapshot: Snapshot) {}

    package func progressed(files: Int, bytes: Int64) {
        // Twice a second is enough for a progress line.
        guard monotonicSeconds() - lastProgress >= 0.5 else { return }
        lastProgress = monotonicSeconds()
        send("progress\t\(files)\t\(bytes)")
    }
}

extension RemoteSink {
    public func verifier(samplePercent: Double, observer: VerifyObserver) -> SinkVerifier {
        RemoteVerifier(sink: self, samplePercent: samplePercent, observer: observer)
    }
}

/// A verify on the server, where the data is: only the findings cross the
/// channel, each told to the observer as it arrives.
package struct RemoteVerifier: SinkVerifier {
    package let sink: RemoteSink
    package let samplePercent: Double
    package let observer: VerifyObserver

    package func verify(_ snapshot: Snapshot?, reportingAs shown: Snapshot) throws -> Verification {
        let stream = try sink.stream(.verify(snapshot: snapshot?.id, samplePercent: samplePercent))
        var result = Verification()
        while let piece = try stream.nextPiece() {
            let fields = String(decoding: piece, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "found" where fields.count == 4:
                let damage = Damage(kind: Damage.Kind(rawValue: fields[1]) ?? .manifest, path: RelativePath(RemoteSink.bytes(hex: fields[2])),
                                    detail: fields[3])
                result.damages.append(damage)
                observer.found(damage, in: shown)
            case "skipped" where fields.count == 2: observer.skipped(shown, because: fields[1])
            case "progress" where fields.count == 3: observer.progressed(files: Int(fields[1]) ?? 0, bytes: Int64(fields[2]) ?? 0)
            case "read" where fields.count == 4:
                (result.filesRead, result.bytesRead, result.unheld) = (Int(fields[1]) ?? 0, Int64(fields[2]) ?? 0, Int(fields[3]) ?? 0)
            default:
                throw EmuError.failed("\(sink.server) sent a finding emu does not know: \(fields.first ?? "")",
                                      fix: "install the same version of emu on both machines")
            }
        }
        return result
    }
}
