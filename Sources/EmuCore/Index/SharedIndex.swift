import EmuPOSIX
import EmuRecords

/// The sinks `emu serve --root DIR` hosts share one content index,
/// `DIR/.emu-shared/index`, when they are on DIR's filesystem: a file that
/// ten machines back up is stored once, and it is freed only when no
/// snapshot of any of them holds it (an index entry is garbage once its
/// inode's link count is 1, whichever sink's trees held the other links).
/// A sink names the index it uses in `.emu/shared-index`, so commands run on
/// the server against its path (a cron prune, a clean) use the same one.
extension Sink {
    /// The content index's directory: the shared one this sink names, else its own.
    package func indexDirectory() throws -> DirectoryHandle {
        if let text = try MetadataFile.read(in: metadata, SinkLayout.sharedIndex),
           case let shared = String(text.split(separator: "\n").first ?? ""), !shared.isEmpty {
            if let permitted = permittedSharedIndex, shared != permitted {
                throw EmuError.failed("the sink \(path) names \(shared) as its shared index, which is not this server's (\(permitted))",
                                      fix: "remove \(path)/.emu/shared-index on the server; the next push shares the root's index again")
            }
            let directory: DirectoryHandle
            do { directory = try DirectoryHandle.open(shared, origin: .sink) } catch let error as FileSystemError {
                throw EmuError(error, fix: "the sink's .emu/shared-index names the index of the root it was served from; restore that directory")
            }
            guard try directory.status().device == (try metadata.status().device) else {
                throw EmuError.failed("the shared index \(shared) is on another filesystem than the sink \(path)",
                                      fix: "remove \(path)/.emu/shared-index to give the sink an index of its own")
            }
            return directory
        }
        if (try? metadata.status(SinkLayout.index))?.kind != .directory {
            try metadata.makeDirectory(SinkLayout.index, permissions: 0o755)
        }
        return try metadata.openDirectory(SinkLayout.index)
    }

    /// Whether the content index this sink uses holds no entry (no bucket),
    /// so that it cannot say it holds any file: a push may then send new
    /// files without asking about them. Makes nothing; false when unsure.
    package var indexHoldsNothing: Bool {
        let sharesIndex = (try? MetadataFile.read(in: metadata, SinkLayout.sharedIndex)) != nil
        if !sharesIndex, (try? metadata.status(SinkLayout.index)) == nil { return true }
        guard let index = try? indexDirectory(), let entries = try? index.entries() else { return false }
        return entries.allSatisfy { ContentIndex.bucketName($0.name) == nil }
    }

    /// Makes this sink use the index shared by the sinks under `root`, when
    /// it is on the same filesystem; a sink with an index of its own keeps
    /// its entries there, and its new files go to the shared one.
    package func shareIndex(under root: String) throws {
        let rootHandle = try DirectoryHandle.open(root, origin: .sink)
        guard try rootHandle.status().device == (try metadata.status().device) else { return }
        if (try? rootHandle.status(SinkLayout.sharedRoot)) == nil { try rootHandle.makeDirectory(SinkLayout.sharedRoot, permissions: 0o700) }
        let shared = try rootHandle.openDirectory(SinkLayout.sharedRoot)
        if (try? shared.status(SinkLayout.index)) == nil { try shared.makeDirectory(SinkLayout.index, permissions: 0o755) }
        let location = SinkLayout.sharedIndexLocation(under: root)
        guard try MetadataFile.read(in: metadata, SinkLayout.sharedIndex) != location + "\n" else { return }
        try MetadataFile.write(in: metadata, SinkLayout.sharedIndex, location + "\n")
    }
}
