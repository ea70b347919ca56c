import EmuPOSIX
import EmuCore
import EmuRecords

/// The manifest a server is expected to write for a push over ssh, written
/// on the client as the entries go, for its records cache: the next push
/// then compares with it instead of fetching the server's. An entry sent
/// with `kind` is recorded as `PushReceiver.make` records it. A file that
/// changes while it is sent, or a device the server may not make, makes the
/// prediction wrong: its digest then fails the server's check and it is
/// not kept.
package struct PushPrediction {
    package private(set) var writer: ManifestWriter?
    /// The expected records of first names of inodes with several, for the later names.
    private var leaders: [RelativePath: ManifestRecord] = [:]

    package init(_ writer: ManifestWriter) { self.writer = writer }

    package mutating func add(_ kind: PushEntry.Kind, _ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool) {
        guard let writer else { return }
        var written = record
        switch kind {
        case .link:
            written.hardlinkLeader = nil  // as the server does for a run's records
        case .resume:
            break
        case .hardlink:
            guard let leader = record.hardlinkLeader, let shared = leaders[leader] else { return }
            written = shared
            written.path = record.path
            written.hardlinkLeader = leader
        default:
            written.attributes = attributesDigest(attributes)
            // The server hashes every file it receives; an empty one is not asked about.
            if kind == .file && written.content == nil { written.content = ContentHasher().finalize() }
        }
        if leads { leaders[record.path] = written }
        do { try writer.append(written) } catch {
            // The cache's disk is full or failing: the push goes on without a prediction.
            self.writer = nil
        }
    }
}
