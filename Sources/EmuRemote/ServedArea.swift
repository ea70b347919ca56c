import EmuPOSIX
import EmuCore
import EmuRecords

/// What a `--root DIR` key may reach: every sink below DIR (an
/// administrator's key), or with `--client NAME` the sinks at `DIR/NAME`
/// and below (one machine's key), while the content index stays shared
/// across DIR. A sink there is a plain path of its own: never a name
/// starting with `.` (emu's `.emu/`, `.emu-shared/`, anything hidden),
/// never inside a directory that is itself a sink (its snapshot trees, a
/// fake sink a client pushed as data). Every path a client names is checked
/// here, resolved through symlinks, before anything is opened or made.
package struct ServedArea {
    package let root: String
    package let client: String?

    /// Whether `name` can be a client's directory below a root: one plain component.
    package static func isClientName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0")
    }

    /// The resolved path of the sink `requested` names (absolute, or
    /// relative to the key's area), or a usage error naming the rule it breaks.
    package func sinkPath(_ requested: String) throws -> String {
        guard let resolvedRoot = resolvedPath(root) else {
            throw EmuError.failed("this server's root \(root) is missing", fix: "make it on the server, or correct the forced command")
        }
        let area = client.map { resolvedRoot + "/" + $0 } ?? resolvedRoot
        let full = requested.hasPrefix("/") ? requested : area + "/" + requested
        let last = full.split(separator: "/").last.map(String.init) ?? ""
        // What does not exist yet resolves through its parent: a new client's sink.
        guard !full.split(separator: "/").contains(".."), let resolved = resolvedPath(full) ?? resolvedPath(parentPath(full)).map({ $0 + "/" + last }),
              isPath(resolved, within: area), resolved != resolvedRoot else {
            throw EmuError.usage("\(requested) is not a sink below this server's \(client == nil ? "root \(root)" : "area for \(client!)")",
                                 fix: "register a path below \(client.map { root + "/" + $0 } ?? root) (symlinks and .. may not leave it)")
        }
        let below = resolved.dropFirst(resolvedRoot.count + 1).split(separator: "/")
        if let hidden = below.first(where: { $0.hasPrefix(".") }) {
            throw EmuError.usage("\(requested) is not a sink this server serves: '\(hidden)' starts with '.', which is emu's or hidden",
                                 fix: "name a plain path of its own below the root, e.g. \(root)/HOSTNAME")
        }
        var ancestor = resolvedRoot
        for component in below.dropLast() {
            ancestor += "/" + component
            if isDirectory(ancestor + "/.emu") {
                throw EmuError.usage("\(requested) lies inside the sink \(ancestor)", fix: "name a path of its own below the root, beside the other sinks")
            }
        }
        return resolved
    }
}
