import Foundation
import Testing

/// A sink as emu 0.2.5 left it: trees without manifests, INI nodes, a
/// date-named symlink per snapshot and `Most Recent Backup`.
enum LegacySink {
    static let firstID = "695b8f00" + String(repeating: "a", count: 40)
    static let secondID = "695ce080" + String(repeating: "b", count: 40)

    /// Adds a snapshot of `source` (a copy that keeps xattrs and modes) to the 0.2.5 sink at `sink`.
    static func snapshot(of source: String, in sink: String, id: String, name: String, parent: String) {
        sh("""
            mkdir -p '\(sink)/.emu/trees/\(id)' '\(sink)/.emu/nodes' && cp -a '\(source)/.' '\(sink)/.emu/trees/\(id)/' \
            && rm -rf '\(sink)/.emu/trees/\(id)/.emu' \
            && printf '[Snapshot]\\nsnapshot = \(id)\\nparent = \(parent)\\nname = \(name)\\ndate = Monday January 05 10:00:00 2026\\nchecksum = sha1sum\\nsize = 10\\n\\n[Tree]\\n\\n[Stack]\\nsource = x\\nstack = old\\npath = \(sink)\\n' > '\(sink)/.emu/nodes/\(id)' \
            && ln -sfn '.emu/trees/\(id)' '\(sink)/\(name)' && ln -sfn '\(name)' '\(sink)/Most Recent Backup' && echo \(id) > '\(sink)/.emu/HEAD'
            """)
    }

    /// Writes the sink's own config, as emu 0.2.5 did.
    static func configure(_ sink: String) {
        sh("printf '[Snapshots]\\nmax-number = 10\\nchecksum = sha1sum\\n' > '\(sink)/.emu/config'")
    }
}
