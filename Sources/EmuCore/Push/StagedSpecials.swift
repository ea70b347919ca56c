import EmuPOSIX
import EmuRecords

/// Symlinks, FIFOs and devices: made in the staging tree as their records say.
extension StagingWriter {
    package func makeSymlink(_ name: FileName, _ record: ManifestRecord, attributes: [ExtendedAttribute], in parent: OpenDirectory) throws {
        try parent.target.makeSymlink(name, target: record.symlinkTarget ?? [])
        try EntryMetadata(record, attributes: attributes).apply(to: .entry(parent.target, name, .symlink), aclSource: nil)
        try finisher.submit(.record(record, isFile: false))
        counts.symlinks += 1
    }

    package func makeSpecial(_ name: FileName, _ record: ManifestRecord, attributes: [ExtendedAttribute], in parent: OpenDirectory) throws {
        do {
            try parent.target.makeNode(name, kind: record.kind, permissions: 0o600, device: record.device?.raw ?? 0)
        } catch let error as FileSystemError where error.isNotPermitted && record.kind != .fifo {
            return try finisher.submit(.noted(record.path, "device skipped (only root can make device files)"))
        }
        try EntryMetadata(record, attributes: attributes).apply(to: .entry(parent.target, name, record.kind), aclSource: nil)
        try finisher.submit(.record(record, isFile: false))
        counts.specials += 1
    }
}
