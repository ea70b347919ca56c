import EmuPOSIX
import EmuRecords

/// Where everything lives in a sink, named once:
///
///     SINK/.emu/config            retention and format (INI)
///     SINK/.emu/HEAD              the newest snapshot's ID
///     SINK/.emu/lock              the kernel lock commands take
///     SINK/.emu/nodes/ID          a snapshot's record
///     SINK/.emu/trees/ID/         a snapshot's tree
///     SINK/.emu/manifests/ID      a snapshot's manifest (a list of chunks)
///     SINK/.emu/chunks/XX/...     manifest chunks, each stored once
///     SINK/.emu/index/XX/...      the content index
///     SINK/.emu/shared-index      where the index is instead: shared by the sinks under one `emu serve --root`
///     SINK/.emu/staging/          the push under way (tree, manifest, node, index entries)
///     SINK/.emu/resume/           what a killed push copied, for the next one
///     SINK/.emu/trash/            what is being deleted
///     SINK/YYYY-MM-DD HH.MM.SS    a date link to .emu/trees/ID
///     SINK/Latest                 a link to the newest date link
package enum SinkLayout {
    package static let metadata = FileName(".emu")
    package static let nodes = FileName("nodes")
    package static let trees = FileName("trees")
    package static let manifests = FileName("manifests")
    package static let chunks = FileName("chunks")
    package static let index = FileName("index")
    package static let staging = FileName("staging")
    package static let resume = FileName("resume")
    package static let trash = FileName("trash")
    package static let lock = FileName("lock")
    /// emu 0.2.5's lock file, a leftover `emu clean` removes.
    package static let legacyLock = FileName("LOCK")
    /// Metadata files, by the names `MetadataFile` takes.
    package static let head = "HEAD"
    package static let config = "config"
    package static let sharedIndex = "shared-index"
    /// Under a served root: ROOT/.emu-shared/index, the index its sinks share.
    package static let sharedRoot = FileName(".emu-shared")
    package static let latest = "Latest"
    /// The directories every sink has below `.emu/`.
    package static let required = [nodes, trees, manifests]

    /// The path of the index the sinks below a served root share (`root` resolved).
    package static func sharedIndexLocation(under root: String) -> String {
        root + "/" + String(decoding: sharedRoot.bytes, as: UTF8.self) + "/index"
    }

    /// A snapshot's tree, below `.emu/`.
    package static func tree(_ id: String) -> RelativePath { RelativePath("trees/\(id)") }

    /// A snapshot's manifest, below `.emu/`.
    package static func manifest(_ id: String) -> RelativePath { RelativePath("manifests/\(id)") }

    /// What a date link in the sink's root points at.
    package static func linkTarget(_ id: String) -> String { ".emu/trees/\(id)" }

    /// The ID a date link's target names, when it names a tree.
    package static func id(ofLinkTarget target: String) -> String? {
        target.hasPrefix(".emu/trees/") ? String(target.dropFirst(".emu/trees/".count)) : nil
    }
}
