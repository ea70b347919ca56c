import EmuPOSIX
import Glibc
import EmuRecords

/// One thing wrong in a snapshot.
public struct Damage: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case missing, extra, type, size, content, mode, owner, mtime, attributes, target, device, hardlink, manifest, index, head, record
    }

    public var kind: Kind
    public var path: RelativePath
    public var detail: String

    package init(kind: Kind, path: RelativePath, detail: String) { (self.kind, self.path, self.detail) = (kind, path, detail) }

    public var description: String { "\(kind.rawValue): \(path.isRoot ? "." : path.description)\(detail.isEmpty ? "" : " (\(detail))")" }
}

/// What a verify found and read.
public struct Verification: Sendable {
    public var damages: [Damage] = []
    public var filesRead = 0
    public var bytesRead: Int64 = 0
    /// Content index entries no snapshot holds (a whole sink's verify).
    public var unheld = 0

    public init() {}
}

public protocol VerifyObserver: AnyObject {
    func found(_ damage: Damage, in snapshot: Snapshot)
    func skipped(_ snapshot: Snapshot, because reason: String)
    func progressed(files: Int, bytes: Int64)
    /// The result could not be kept in the snapshot's record (no write access there).
    func notRecorded(_ snapshot: Snapshot)
}

/// Re-reads snapshots and compares them with their manifests: every entry
/// present and no other, types, sizes, SHA-256 of every (or a sampled share
/// of every) file, modes, owners, mtimes, xattrs and ACLs, symlink targets,
/// hardlink groups. An inode shared by many snapshots is hashed once a run
/// (of the first 65,536 inodes read; later ones once a snapshot).
public final class Verifier {
    package let samplePercent: Double
    package unowned let observer: VerifyObserver
    package var hashes: [FileIdentity: ContentHash] = [:]
    public private(set) var filesRead = 0
    public private(set) var bytesRead: Int64 = 0
    package var files = 0

    public init(samplePercent: Double = 100, observer: VerifyObserver) {
        self.samplePercent = samplePercent
        self.observer = observer
    }

    /// Checks one snapshot; returns what is wrong with it and records the
    /// result in its node (`[Tree] Status`, `Last-Verified`, as emu 0.2.5 did).
    public func verify(_ snapshot: Snapshot, in sink: Sink) throws -> [Damage] {
        var damages: [Damage] = []
        func report(_ kind: Damage.Kind, _ path: RelativePath, _ detail: String = "") {
            let damage = Damage(kind: kind, path: path, detail: detail)
            damages.append(damage)
            observer.found(damage, in: snapshot)
        }
        if snapshot.nameIsDamaged {
            report(.record, .root, "its record names a date link that is not a date; `emu clean --repair` names it \(snapshot.name)")
        }
        let tree: DirectoryHandle
        do { tree = try sink.openTree(snapshot) } catch let error as FileSystemError where error.isMissing {
            report(.missing, .root, "its tree .emu/trees/\(snapshot.id) is gone")
            if try !sink.recordVerification(of: snapshot, clean: false, problems: damages.count) { observer.notRecorded(snapshot) }
            return damages
        }
        guard sink.hasManifest(snapshot) else {
            observer.skipped(snapshot, because: "it has no manifest (made by emu 0.2.5); `emu clean --repair` builds one")
            return []
        }
        let device = try tree.status().device
        let scanner = TreeScanner(root: tree, filter: nil)
        do {
            let manifest = try sink.openManifest(snapshot)
            try mergeInOrder(manifest.next, scanner.next, keyA: \.path, keyB: \.path) { recorded, actual in
                switch (recorded, actual) {
                case (let r?, let a?): try check(r, a, in: scanner, device: device, snapshot: snapshot, report: report)
                case (let r?, nil): report(.missing, r.path)
                case (nil, let a?): report(.extra, a.path)
                case (nil, nil): break
                }
            }
        } catch let error as EmuError {
            report(.manifest, .root, error.message)
        }
        for (path, error) in scanner.unreadable { report(.missing, path, "unreadable: \(error)") }
        if try !sink.recordVerification(of: snapshot, clean: damages.isEmpty, problems: damages.count) { observer.notRecorded(snapshot) }
        return damages
    }

    package func check(_ r: ManifestRecord, _ a: ManifestRecord, in scanner: TreeScanner, device: UInt64, snapshot: Snapshot,
               report: (Damage.Kind, RelativePath, String) -> Void) throws {
        let path = r.path
        let directory = scanner.lastDirectory ?? scanner.root
        let name = path.lastName
        guard r.kind == a.kind else { return report(.type, path, "recorded \(r.kind), found \(a.kind)") }
        if r.kind != .symlink && r.permissions != a.permissions {
            report(.mode, path, "recorded \(String(r.permissions, radix: 8)), found \(String(a.permissions, radix: 8))")
        }
        if snapshot.madeByRoot && (r.owner != a.owner || r.group != a.group) {
            report(.owner, path, "recorded \(r.owner):\(r.group), found \(a.owner):\(a.group)")
        }
        if r.kind != .directory && r.modified != a.modified { report(.mtime, path, "") }
        switch r.kind {
        case .regular:
            guard r.size == a.size else { return report(.size, path, "recorded \(r.size) bytes, found \(a.size)") }
            if let leader = r.hardlinkLeader, let leaderStatus = try? scanner.root.status(path: leader), leaderStatus.inode != a.inode {
                report(.hardlink, path, "not linked to \(leader)")
            }
            files += 1
            if let expected = r.content, sampled(path) {
                let identity = FileIdentity(device: device, inode: a.inode)
                let actual: ContentHash
                if let known = hashes[identity] {
                    actual = known
                } else {
                    actual = try scanner.contentHash(name!, in: directory)
                    remember(actual, for: identity)
                    filesRead += 1
                    bytesRead += a.size
                }
                if actual != expected { report(.content, path, "SHA-256 differs from the record") }
            }
            observer.progressed(files: files, bytes: bytesRead)
        case .symlink:
            if r.symlinkTarget != a.symlinkTarget { report(.target, path, "") }
        case .characterDevice, .blockDevice:
            if r.device != a.device { report(.device, path, "") }
        default:
            break
        }
        let attributes = try scanner.attributesDigest(name, in: directory, kind: r.kind)
        if attributes != r.attributes { report(.attributes, path, "xattrs or ACLs differ") }
    }

    /// Checks the sink's content index: every entry's inode holds the content
    /// its name says (inodes hashed already this run are not read again).
    /// A HEAD that names no snapshot of the sink: damage (`emu clean`
    /// sets it right). One that names an older snapshot, or is empty, is what
    /// a push killed just after publishing its record leaves, and the next
    /// command that locks the sink moves it: not damage.
    public func verifyHead(of sink: Sink) throws -> Damage? {
        guard let head = try sink.headID(), try !sink.snapshots().contains(where: { $0.id == head }) else { return nil }
        return Damage(kind: .head, path: RelativePath(".emu/HEAD"),
                      detail: "names \(Snapshot.shortForm(head)), which is no snapshot; `emu clean --repair` sets it right")
    }

    /// Returns the problems, and the entries no snapshot holds: an
    /// interrupted command's leftovers, which harm no snapshot and which the
    /// next command that locks the sink (or `emu clean`) removes.
    public func verifyIndex(of sink: Sink, report: (Damage) -> Void) throws -> (problems: Int, unheld: Int) {
        let index = try ContentIndex.open(in: sink)
        let device = try index.root.status().device
        var problems = 0, unheld = 0
        try index.forEachEntry { bucket, entry, status in
            let name = String(decoding: entry.bytes, as: UTF8.self)
            let path = RelativePath(".emu/index/\(bucket.path.split(separator: 0x2F).last.map { String(decoding: $0, as: UTF8.self) } ?? "")/\(name)")
            guard let expected = ContentHash(hex: entry.bytes.prefix(64)) else {
                problems += 1
                return report(Damage(kind: .index, path: path, detail: "not an index entry's name"))
            }
            if status.linkCount == 1 { unheld += 1 }
            let identity = FileIdentity(device: device, inode: status.inode)
            guard sampled(path) else { return }
            let actual: ContentHash
            if let known = hashes[identity] {
                actual = known
            } else {
                actual = try hashFile(entry, in: bucket, copier: DataCopier()).0
                remember(actual, for: identity)
            }
            if actual != expected {
                problems += 1
                report(Damage(kind: .index, path: path, detail: "its content does not match its name"))
            }
        }
        return (problems, unheld)
    }

    /// Keeps an inode's hash for the other snapshots of this run that share
    /// it, up to a fixed number of inodes: memory stays flat however many
    /// files a sink holds (past the limit, a shared inode is read again).
    package func remember(_ hash: ContentHash, for identity: FileIdentity) {
        if hashes.count < Self.rememberedInodes { hashes[identity] = hash }
    }

    package static let rememberedInodes = 65_536

    package func sampled(_ path: RelativePath) -> Bool {
        samplePercent >= 100 || Double.random(in: 0..<100) < samplePercent
    }
}
