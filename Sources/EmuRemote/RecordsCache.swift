import EmuPOSIX
import Glibc
import EmuCore
import EmuRecords

/// The client's copy of a remote sink's newest manifest, so that a push
/// compares its source without the server sending its records again (as
/// borg and restic keep a cache of what their repository holds). It lives
/// under `$XDG_CACHE_HOME/emu` (else `~/.cache/emu`), a directory a sink,
/// one file a snapshot, named by its ID.
///
/// Nothing here is trusted: a cached copy is used only while its digest
/// still makes its snapshot's ID, and the server checks that digest against
/// its own manifest before it links a file the copy names. A push writes the
/// records it expects the server to write (`PushPrediction`); they are
/// kept only when their digest makes the new snapshot's ID, that is when
/// they are the server's manifest byte for byte. Without a cache, or when a
/// check fails, the records are read from the server as before.
package final class RecordsCache {
    package let directory: DirectoryHandle
    /// Where this process writes the records it expects.
    package let predictionName = FileName("next.\(getpid())")

    private init(_ directory: DirectoryHandle) { self.directory = directory }

    /// The cache of the sink at `location`; nil where none can be made
    /// (no home, a read-only one): pushes then read records from the server.
    package static func open(sinkLocation location: String) -> RecordsCache? {
        guard let base = cacheHome() else { return nil }
        var hasher = ContentHasher()
        hasher.update(Array(location.utf8))
        var path = ""
        for component in [base, "emu", String(hasher.finalize().description.prefix(32))] {
            path += (path.isEmpty ? "" : "/") + component
            // Private: the records name every file of the source.
            if mkdir(path, 0o700) != 0 && errno != EEXIST { return nil }
        }
        return (try? DirectoryHandle.open(path)).map(RecordsCache.init)
    }

    package static func cacheHome() -> String? {
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil } }
        return variable("XDG_CACHE_HOME") ?? variable("HOME").map { $0 + "/.cache" }
    }

    /// The cached records of `snapshot` and their digest, when the digest still makes its ID.
    package func records(of snapshot: Snapshot) -> (SpooledBytes, ContentHash)? {
        let name = FileName(snapshot.id)
        guard let (records, digest) = read(name) else { return nil }
        guard Self.digest(digest, makes: snapshot) else {
            records.close()
            try? directory.remove(name)
            return nil
        }
        return (records, digest)
    }

    /// A cached file's records, open from the start, and their digest.
    private func read(_ name: FileName) -> (SpooledBytes, ContentHash)? {
        guard let (digest, length) = try? hashFile(name, in: directory, copier: DataCopier()),
              let file = try? directory.openForReading(name) else { return nil }
        return (SpooledBytes(file, length: length), digest)
    }

    /// The one snapshot whose records are kept, by the ID its file is named,
    /// and the records with their digest: a guess at the sink's newest (this
    /// client's last push), which the server confirms or refuses.
    package func kept() -> KeptRecords? {
        // Temporary files are named `KIND.PID`; a snapshot's by its ID, without a dot.
        let names = ((try? directory.entries()) ?? []).map(\.name).filter { !$0.bytes.contains(UInt8(ascii: ".")) }
        guard names.count == 1, let name = names.first, let (records, digest) = read(name) else { return nil }
        return KeptRecords(id: String(decoding: name.bytes, as: UTF8.self), records: records, digest: digest)
    }

    package static func digest(_ digest: ContentHash, makes snapshot: Snapshot) -> Bool {
        Snapshot.makeID(date: snapshot.date, manifest: digest, parent: snapshot.parent) == snapshot.id
    }

    /// Where a download of records goes: kept by `keep` if it proves whole.
    package let downloadName = FileName("records.\(getpid())")

    /// Keeps what was written to `name` as the records of `snapshot` when
    /// its digest makes the snapshot's ID, and forgets every other
    /// snapshot's (a push needs the newest only).
    package func keep(_ name: FileName, digest: ContentHash, as snapshot: Snapshot) {
        guard Self.digest(digest, makes: snapshot) else { return forget(name) }
        try? directory.rename(name, to: directory, as: FileName(snapshot.id))
        for entry in (try? directory.entries()) ?? [] where entry.name != FileName(snapshot.id) && !Self.isLiveTemporary(entry.name) {
            try? directory.remove(entry.name)
        }
    }

    package func forget(_ name: FileName) { try? directory.remove(name) }

    /// Whether `name` is a file some running emu writes (`KIND.PID`).
    package static func isLiveTemporary(_ name: FileName) -> Bool {
        guard let dot = name.bytes.lastIndex(of: UInt8(ascii: ".")),
              let pid = Int32(String(decoding: name.bytes[(dot + 1)...], as: UTF8.self)) else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

/// The newest snapshot a push guesses the sink holds, and its records: what
/// it begins on before it has heard the sink's list. All nil: no snapshot.
package struct KeptRecords {
    package let id: String?
    package let records: SpooledBytes?
    package let digest: ContentHash?

    /// Whether these are the newest of `snapshots` and its records: what a
    /// server that began a push on them must list (a server is not trusted).
    package func areNewest(of snapshots: [Snapshot]) -> Bool {
        guard let newest = snapshots.last else { return id == nil }
        return id == newest.id && digest.map { RecordsCache.digest($0, makes: newest) } == true
    }

    /// The records a push compares its source with, once the server confirmed them.
    package func compared(origin: RecordOrigin) -> ComparedRecords? {
        guard let records, let digest else { return nil }
        return ComparedRecords(records.file, length: records.length, digest: digest, origin: origin)
    }
}
