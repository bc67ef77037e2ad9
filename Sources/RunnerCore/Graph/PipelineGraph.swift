/// The DAG of a pipeline: explicit `needs` edges plus the implicit barrier between stages
/// (every step of stage N+1 waits for every step of stage N). The barrier is never
/// materialised as edges, so a stage of 5,000 steps followed by another costs nothing.
public struct PipelineGraph: Sendable {
    public struct Node: Sendable {
        public let name: String
        public let section: StepSection
        /// Explicit, valid `needs` edges (indices into `nodes`), in declaration order.
        public internal(set) var needs: [Int]
        /// The wave in which the step can start: 0 for sources of its section.
        public internal(set) var level: Int
    }

    public private(set) var nodes: [Node]
    /// No dependency cycle: Kahn's order placed every step (found when the levels were made).
    private(set) var isAcyclic = false
    public let indexByName: [String: Int]
    /// Nodes of each stage, in declaration order.
    public let stageMembers: [[Int]]

    /// Builds the graph. Invalid `needs` (unknown, across sections, to a later stage) are
    /// reported by the validator and left out here.
    public init(pipeline: Pipeline) {
        self.init(pipeline: pipeline, steps: pipeline.allSteps)
    }

    /// With `steps` already gathered (`pipeline.allSteps`), which copying 10,000 steps twice would cost.
    public init(pipeline: Pipeline, steps: [Step]) {
        self = Self.resolving(pipeline: pipeline, steps: steps).graph
    }

    /// The graph, and for each step the node each name of its `needs` is (-1: no step of that
    /// name), in order: the validator checks the names with these instead of looking each one
    /// up again (90,000 names in a pipeline whose every step needs the 100 of the layer before).
    public static func resolving(pipeline: Pipeline, steps: [Step]) -> (graph: PipelineGraph, needTargets: [[Int32]]) {
        var indexByName: [String: Int] = [:]
        indexByName.reserveCapacity(steps.count)
        for (i, step) in steps.enumerated() where indexByName[step.name.value] == nil {
            indexByName[step.name.value] = i
        }
        var stageMembers = Array(repeating: [Int](), count: pipeline.stages.count)
        var nodes: [Node] = []
        nodes.reserveCapacity(steps.count)
        var needTargets: [[Int32]] = []
        needTargets.reserveCapacity(steps.count)
        // addedBy[t] == i: node i already needs t (a duplicate need is one edge), in O(1).
        var addedBy = Array(repeating: -1, count: steps.count)
        // Steps of a fan-in often list the same needs as the step before them (every step of
        // a layer needing the whole previous layer): comparing the names is a fraction of
        // hashing them again.
        var previousNeeds: [Located<String>] = []
        var previousTargets: [Int32] = []
        for (i, step) in steps.enumerated() {
            if case .main(let stage) = step.section { stageMembers[stage].append(i) }
            let targets: [Int32]
            if !step.needs.isEmpty, step.needs.count == previousNeeds.count,
               zip(step.needs, previousNeeds).allSatisfy({ $0.value == $1.value }) {
                targets = previousTargets
            } else {
                targets = step.needs.map { need in indexByName[need.value].map { Int32($0) } ?? -1 }
                previousNeeds = step.needs
                previousTargets = targets
            }
            var needs: [Int] = []
            needs.reserveCapacity(targets.count)
            for target32 in targets where target32 >= 0 {
                let target = Int(target32)
                if addedBy[target] != i && PipelineGraph.isValidEdge(from: step.section, to: steps[target].section) {
                    addedBy[target] = i
                    needs.append(target)
                }
            }
            needTargets.append(targets)
            nodes.append(Node(name: step.name.value, section: step.section, needs: needs, level: 0))
        }
        var graph = PipelineGraph(nodes: nodes, indexByName: indexByName, stageMembers: stageMembers)
        graph.computeLevels()
        return (graph, needTargets)
    }

    private init(nodes: [Node], indexByName: [String: Int], stageMembers: [[Int]]) {
        self.nodes = nodes
        self.indexByName = indexByName
        self.stageMembers = stageMembers
    }

    /// A `needs` edge is valid within one section, and in main only to the same or an earlier stage.
    static func isValidEdge(from: StepSection, to: StepSection) -> Bool {
        switch (from, to) {
        case let (.main(a), .main(b)): b <= a
        case (.rollback, .rollback), (.finally, .finally): true
        default: false
        }
    }

    public func stage(of index: Int) -> Int? {
        if case .main(let s) = nodes[index].section { return s }
        return nil
    }

    // MARK: - Cycles

    /// Every dependency cycle, one per strongly connected component, each as a path of node
    /// indices starting at the component's first-declared step and ending where it began.
    public func cycles() -> [[Int]] {
        if isAcyclic { return [] }
        var result: [[Int]] = []
        for component in stronglyConnectedComponents() {
            let members = Set(component)
            let start = component.min()!
            if component.count == 1 && !nodes[start].needs.contains(start) { continue }
            result.append(cyclePath(from: start, within: members))
        }
        return result.sorted { $0[0] < $1[0] }
    }

    /// Shortest path start -> ... -> start along `needs` edges inside the component (BFS).
    private func cyclePath(from start: Int, within members: Set<Int>) -> [Int] {
        var parent: [Int: Int] = [:]
        var queue = [start], head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            for next in nodes[current].needs where members.contains(next) {
                if next == start {
                    var path = [start]
                    var node = current
                    while node != start {
                        path.append(node)
                        node = parent[node]!
                    }
                    return [start] + path.dropFirst().reversed() + [start]
                }
                if parent[next] == nil {
                    parent[next] = current
                    queue.append(next)
                }
            }
        }
        return [start, start]
    }

    /// Tarjan's algorithm, iterative so a 10,000-step chain cannot overflow the stack.
    private func stronglyConnectedComponents() -> [[Int]] {
        let n = nodes.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = [], components: [[Int]] = []
        var counter = 0
        for root in 0..<n where index[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                let needs = nodes[node].needs
                if edge < needs.count {
                    work[work.count - 1].edge += 1
                    let next = needs[edge]
                    if index[next] < 0 {
                        index[next] = counter; low[next] = counter; counter += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[node] = min(low[node], index[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { low[parent] = min(low[parent], low[node]) }
                if low[node] == index[node] {
                    var component: [Int] = []
                    while let top = stack.popLast() {
                        onStack[top] = false
                        component.append(top)
                        if top == node { break }
                    }
                    components.append(component)
                }
            }
        }
        return components
    }

    // MARK: - Order

    /// Levels: a step starts one wave after the latest of its needs, and after every step of
    /// the previous stage. Steps on cycles keep level 0.
    private mutating func computeLevels() {
        // Explicit edges only reach the same or an earlier stage, so ordering by stage and
        // then by topological position is still topological, and sees whole stages in turn.
        let topological = topologicalOrder(includingCycles: true, complete: &isAcyclic)
        var position = [Int](repeating: 0, count: nodes.count)
        for (p, i) in topological.enumerated() { position[i] = p }
        let order = topological.sorted { (sectionRank(nodes[$0].section), position[$0]) < (sectionRank(nodes[$1].section), position[$1]) }
        var stageMax = Array(repeating: -1, count: stageMembers.count)
        for i in order {
            var level = 0
            if let s = stage(of: i), s > 0 { level = stageMaxBefore(s, stageMax) + 1 }
            for need in nodes[i].needs where need != i { level = max(level, nodes[need].level + 1) }
            nodes[i].level = level
            if let s = stage(of: i) { stageMax[s] = max(stageMax[s], level) }
        }
    }

    private func sectionRank(_ section: StepSection) -> Int {
        switch section {
        case .main(let stage): stage
        case .rollback: Int.max - 1
        case .finally: Int.max
        }
    }

    private func stageMaxBefore(_ stage: Int, _ stageMax: [Int]) -> Int {
        var m = -1
        for s in stride(from: stage - 1, through: 0, by: -1) where stageMax[s] >= 0 {
            m = stageMax[s]
            break
        }
        return m
    }

    /// Kahn's algorithm over explicit edges, stages in order. With `includingCycles`, steps
    /// left on cycles are appended at the end in declaration order.
    /// `complete`: whether every step was placed before any on a cycle was appended.
    func topologicalOrder(includingCycles: Bool, complete: inout Bool) -> [Int] {
        let n = nodes.count
        var indegree = [Int](repeating: 0, count: n)
        var dependents = [[Int]](repeating: [], count: n)
        for i in 0..<n {
            for need in nodes[i].needs {
                indegree[i] += 1
                dependents[need].append(i)
            }
        }
        var queue = (0..<n).filter { indegree[$0] == 0 }, head = 0
        var order: [Int] = []
        order.reserveCapacity(n)
        while head < queue.count {
            let i = queue[head]
            head += 1
            order.append(i)
            for d in dependents[i] {
                indegree[d] -= 1
                if indegree[d] == 0 { queue.append(d) }
            }
        }
        complete = order.count == n
        if includingCycles, order.count < n {
            let placed = Set(order)
            order += (0..<n).filter { !placed.contains($0) }
        }
        return order
    }

    /// The execution order of a section: by wave, then declaration order.
    public func executionOrder(of section: SectionKind) -> [Int] {
        nodes.indices
            .filter { section.contains(nodes[$0].section) }
            .sorted { (nodes[$0].level, $0) < (nodes[$1].level, $1) }
    }

    public enum SectionKind: Sendable {
        case main, rollback, finally

        func contains(_ s: StepSection) -> Bool {
            switch (self, s) {
            case (.main, .main), (.rollback, .rollback), (.finally, .finally): true
            default: false
            }
        }
    }

    // MARK: - Dependencies

    /// Whether step `reader` runs only after `target` has finished, so it may read `steps.target`.
    public func canRead(_ reader: Int, _ target: Int) -> Bool {
        guard reader != target else { return false }
        switch (nodes[reader].section, nodes[target].section) {
        case let (.main(rs), .main(ts)):
            if ts < rs { return true }
            if ts > rs { return false }
            return reaches(from: reader, to: target)
        case (.rollback, .main), (.finally, .main), (.finally, .rollback):
            return true
        case (.rollback, .rollback), (.finally, .finally):
            return reaches(from: reader, to: target)
        default:
            return false
        }
    }

    private func reaches(from start: Int, to target: Int) -> Bool {
        var visited = Set<Int>([start]), stack = [start]
        while let current = stack.popLast() {
            for next in nodes[current].needs where visited.insert(next).inserted {
                if next == target { return true }
                if nodes[next].section == nodes[start].section { stack.append(next) }
            }
        }
        return false
    }

    /// Every step `index` waits for, directly: its needs, and for main steps every step of the
    /// previous non-empty stage. For display and small graphs; the engine uses stage barriers.
    public func directPredecessors(of index: Int) -> [Int] {
        var result = nodes[index].needs
        if let s = stage(of: index) {
            var previous = s - 1
            while previous >= 0, stageMembers[previous].isEmpty { previous -= 1 }
            if previous >= 0 {
                for m in stageMembers[previous] where !result.contains(m) { result.append(m) }
            }
        }
        return result
    }
}
