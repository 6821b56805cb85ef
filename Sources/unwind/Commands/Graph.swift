import ArgumentParser
import Foundation
import UnwindCore
import UnwindStore

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a workflow's steps and their states as a Mermaid or Graphviz diagram source.",
        discussion: """
            Examples:
              unwind graph 3f2a9c1e                      # Mermaid (paste into any Markdown that renders it)
              unwind graph 3f2a9c1e --format dot | dot -Tsvg > teardown.svg
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case mermaid, dot }

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String
    @Option(help: "mermaid or dot") var format: Format = .mermaid

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workflowID = try services.store.resolveWorkflowID(id)
            let workflow = try services.store.workflow(workflowID)
            let definition = try services.store.definition(id: workflow.definitionID)
            let states = Dictionary(uniqueKeysWithValues: try services.store.steps(of: workflowID).map { ($0.stepID, $0) })
            print(GraphRenderer.render(definition, states: states, format: format), terminator: "")
        }
    }
}

enum GraphRenderer {
    static func render(_ definition: WorkflowDefinition, states: [String: StepRecord], format: Graph.Format) -> String {
        func label(_ step: StepDefinition) -> String {
            var state = states[step.id]?.state ?? "unknown"
            if states[step.id]?.phase == "compensate" { state += " (compensation)" }
            return "\(step.id)\\n\(state)\(step.isPivot ? "\\npivot" : "")"
        }
        // Node names by position: step ids may hold characters neither Mermaid nor DOT take bare, and replacing
        // them would merge ids that differ only there (`a-b`, `a_b`). Labels show the ids as written.
        let positions = Dictionary(definition.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        func node(_ id: String) -> String { "s\(positions[id] ?? -1)" }
        switch format {
        case .mermaid:
            var text = "flowchart TD\n"
            for step in definition.steps {
                text += "  \(node(step.id))[\"\(label(step).replacingOccurrences(of: "\\n", with: "<br/>"))\"]\n"
            }
            for step in definition.steps {
                for predecessor in step.after { text += "  \(node(predecessor)) --> \(node(step.id))\n" }
            }
            let classes: [String: String] = [
                "succeeded": "fill:#d4edda", "running": "fill:#fff3cd", "failed": "fill:#f8d7da",
                "compensated": "fill:#e2e3e5", "ready": "fill:#d1ecf1", "waiting": "fill:#d1ecf1",
            ]
            for (state, style) in classes.sorted(by: { $0.key < $1.key }) {
                let members = definition.steps.filter { states[$0.id]?.state == state }.map { node($0.id) }
                if !members.isEmpty { text += "  style \(members.joined(separator: ",")) \(style)\n" }
            }
            return text
        case .dot:
            var text = "digraph \"\(definition.name)\" {\n  rankdir=TB;\n  node [shape=box, style=rounded];\n"
            let colors = ["succeeded": "palegreen", "running": "khaki", "failed": "lightpink", "compensated": "lightgray", "ready": "lightblue", "waiting": "lightblue"]
            for step in definition.steps {
                let color = colors[states[step.id]?.state ?? ""].map { ", style=\"rounded,filled\", fillcolor=\($0)" } ?? ""
                let shape = step.isPivot ? ", peripheries=2" : ""
                text += "  \(node(step.id)) [label=\"\(label(step))\"\(color)\(shape)];\n"
            }
            for step in definition.steps {
                for predecessor in step.after { text += "  \(node(predecessor)) -> \(node(step.id));\n" }
            }
            return text + "}\n"
        }
    }
}
