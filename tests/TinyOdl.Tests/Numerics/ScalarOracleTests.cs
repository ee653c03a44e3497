using System.Diagnostics;
using TinyOdl.Numerics;
using TinyOdl.Targets;
using Xunit.Abstractions;

namespace TinyOdl.Tests.Numerics;

/// <summary>One disagreement between QEMU and the C# library.</summary>
internal sealed record OracleMismatch(string Where, string Op, string Operands, string Qemu, string CSharp)
{
    public override string ToString() => $"{Where} {Op} {Operands}: QEMU {Qemu}, C# {CSharp} (result bits + flags hex)";
}

/// <summary>
/// Builds oracle/scalar.c for rv32imafc_zfh, runs it on QEMU (Zfh), and compares every result and flag with the
/// C# library computed from the same operand sets. Runs once per test class.
/// </summary>
public sealed class ScalarOracleFixture : IDisposable
{
    public const string March = "rv32imafc_zfh";
    public const string Cpu = "rv32,d=false,Zfh=true";
    public const int ChunkSize = 65536;
    public const int ChunksNearestEven = 32;     // 2,097,152 operand sets
    public const int ChunksPerDirectedMode = 4;  // 262,144 operand sets each
    private const int MaxDetailRuns = 3;

    private readonly OracleProgram _program;

    internal List<OracleMismatch> EdgeMismatches { get; } = [];
    internal List<OracleMismatch> RandomMismatches { get; } = [];
    internal List<string> Problems { get; } = [];
    public long EdgeResultsPrinted { get; private set; }
    public long EdgeResultsHashed { get; private set; }
    public long RandomOperandSets { get; private set; }
    public long RandomResults { get; private set; }
    public TimeSpan QemuTime { get; private set; }
    public TimeSpan Total { get; private set; }

    public ScalarOracleFixture()
    {
        var total = Stopwatch.StartNew();
        _program = new OracleProgram("scalar.c", March, Cpu, "", Board.Load("qemu-virt-rv32-zfh"));
        var defines = $"-DRANDOM_CHUNKS_RNE={ChunksNearestEven} -DRANDOM_CHUNKS_OTHER={ChunksPerDirectedMode}";
        var qemu = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            var o = _program.Run(defines);
            QemuTime = sw.Elapsed;
            return o;
        });

        // While QEMU runs: the C# side of every hashed stream.
        var expectedRandom = new Dictionary<(int Rm, int Chunk), uint[]>();
        var keys = Enumerable.Range(0, 5).SelectMany(rm => Enumerable.Range(0, rm == 0 ? ChunksNearestEven : ChunksPerDirectedMode).Select(c => (rm, c))).ToArray();
        var hashes = new uint[keys.Length][];
        Parallel.For(0, keys.Length, k => hashes[k] = RandomChunkHashes(keys[k].rm, keys[k].c));
        for (int k = 0; k < keys.Length; k++) expectedRandom[keys[k]] = hashes[k];
        var expectedEdge = new uint[5][];
        Parallel.For(1, 5, rm => expectedEdge[rm] = EdgeHashes(rm));

        var output = qemu.Result;
        Compare(output, expectedRandom, expectedEdge);
        Total = total.Elapsed;
    }

    private static uint[] RandomChunkHashes(int rm, int chunk)
    {
        var h = new uint[ScalarOracleModel.Count];
        Array.Fill(h, OracleGenerator.HashInit);
        ulong state = OracleGenerator.Seed((uint)rm, (uint)chunk);
        for (int i = 0; i < ChunkSize; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            for (int op = 0; op < h.Length; op++)
            {
                uint r = ScalarOracleModel.Eval(op, s, (RoundingMode)rm, out var f);
                h[op] = OracleGenerator.Hash(OracleGenerator.Hash(h[op], r), (uint)f);
            }
        }
        return h;
    }

    private static uint[] EdgeHashes(int rm)
    {
        var h = new uint[ScalarOracleModel.Count];
        for (int op = 0; op < h.Length; op++)
        {
            uint hash = OracleGenerator.HashInit;
            for (int i = 0, n = ScalarOracleModel.EdgeCount(op); i < n; i++)
            {
                uint r = ScalarOracleModel.Eval(op, ScalarOracleModel.EdgeItem(op, i), (RoundingMode)rm, out var f);
                hash = OracleGenerator.Hash(OracleGenerator.Hash(hash, r), (uint)f);
            }
            h[op] = hash;
        }
        return h;
    }

    private void Compare(string output, Dictionary<(int, int), uint[]> expectedRandom, uint[][] expectedEdge)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expectedHeader = $"oracle scalar ops {ScalarOracleModel.Count} chunk {ChunkSize} chunks {ChunksNearestEven} {ChunksPerDirectedMode}";
        if (lines[0] != expectedHeader) Problems.Add($"header '{lines[0]}', expected '{expectedHeader}'");
        var seenEdge = new HashSet<int>();
        var seenEdgeHashed = new HashSet<int>();
        var seenRandom = new HashSet<(int, int)>();
        var detailRequests = new List<(int Kind, int Rm, int Chunk, int Op)>();
        foreach (var line in lines.Skip(1))
        {
            var t = line.Split(' ');
            switch (t[0])
            {
                case "e":
                    {
                        int rm = int.Parse(t[1]), op = int.Parse(t[2]), n = int.Parse(t[3]);
                        seenEdge.Add(op);
                        if (n != ScalarOracleModel.EdgeCount(op) || t.Length != 4 + n) { Problems.Add($"edge line for op {op}: {n} items, {t.Length - 4} printed"); break; }
                        EdgeResultsPrinted += n;
                        CompareItems(EdgeMismatches, "edge", rm, 0, op, t.AsSpan(4), kind: 1);
                        break;
                    }
                case "eh":
                    {
                        int rm = int.Parse(t[1]);
                        seenEdgeHashed.Add(rm);
                        for (int op = 0; op < ScalarOracleModel.Count; op++)
                        {
                            EdgeResultsHashed += ScalarOracleModel.EdgeCount(op);
                            if (Convert.ToUInt32(t[2 + op], 16) != expectedEdge[rm][op]) detailRequests.Add((1, rm, 0, op));
                        }
                        break;
                    }
                case "r":
                    {
                        int rm = int.Parse(t[1]), chunk = int.Parse(t[2]);
                        seenRandom.Add((rm, chunk));
                        RandomOperandSets += ChunkSize;
                        RandomResults += (long)ChunkSize * ScalarOracleModel.Count;
                        var expected = expectedRandom[(rm, chunk)];
                        for (int op = 0; op < ScalarOracleModel.Count; op++)
                            if (Convert.ToUInt32(t[3 + op], 16) != expected[op]) detailRequests.Add((2, rm, chunk, op));
                        break;
                    }
                case "done":
                    break;
                default:
                    Problems.Add($"unexpected line '{line[..Math.Min(line.Length, 80)]}'");
                    break;
            }
        }
        if (seenEdge.Count != ScalarOracleModel.Count) Problems.Add($"edge lines for {seenEdge.Count} ops, expected {ScalarOracleModel.Count}");
        if (seenEdgeHashed.Count != 4) Problems.Add($"hashed edge lines for {seenEdgeHashed.Count} rounding modes, expected 4");
        if (seenRandom.Count != expectedRandom.Count) Problems.Add($"{seenRandom.Count} random chunks, expected {expectedRandom.Count}");

        // Hash mismatch: rerun that stream printing every result, and find the differing operand sets
        // (at most MaxDetailRuns streams of each kind: a detail run rebuilds the program).
        foreach (var group in detailRequests.GroupBy(r => r.Kind))
        {
            foreach (var (kind, rm, chunk, op) in group.Take(MaxDetailRuns))
            {
                var d = _program.Run($"-DDETAIL_KIND={kind} -DDETAIL_RM={rm} -DDETAIL_CHUNK={chunk} -DDETAIL_OP={op}");
                var t = d.Split('\n').Single(l => l.StartsWith("d ", StringComparison.Ordinal)).Split(' ');
                int found = CompareItems(kind == 1 ? EdgeMismatches : RandomMismatches, kind == 1 ? "edge" : $"random chunk {chunk}", rm, chunk, op, t.AsSpan(5), kind);
                if (found == 0) Problems.Add($"hash mismatch without a differing item: kind {kind} rm {rm} chunk {chunk} op {op}");
            }
            if (group.Count() > MaxDetailRuns)
                Problems.Add($"{group.Count()} mismatching {(group.Key == 1 ? "edge" : "random")} streams, the first {MaxDetailRuns} examined");
        }
    }

    /// <summary>Compares printed items with the C# results; returns the number of differences (keeps the first 50).</summary>
    private static int CompareItems(List<OracleMismatch> into, string where, int rm, int chunk, int op, ReadOnlySpan<string> items, int kind)
    {
        int found = 0;
        ulong state = OracleGenerator.Seed((uint)rm, (uint)chunk);
        for (int i = 0; i < items.Length; i++)
        {
            var s = kind == 1 ? ScalarOracleModel.EdgeItem(op, i) : OracleGenerator.GenSet(ref state);
            uint r = ScalarOracleModel.Eval(op, s, (RoundingMode)rm, out var f);
            var expected = ScalarOracleModel.Item(op, r, f);
            if (items[i] == expected) continue;
            if (found++ == 0 || into.Count < 50)
                into.Add(new OracleMismatch($"{where} rm={(RoundingMode)rm} #{i}", ScalarOracleModel.Names[op], ScalarOracleModel.Operands(op, s), items[i], expected));
        }
        return found;
    }

    public void Dispose() => _program.Dispose();
}

/// <summary>The scalar Zfh (and F) instructions on QEMU against <see cref="Binary16"/> and <see cref="Binary32"/>.</summary>
public sealed class ScalarOracleTests(ScalarOracleFixture oracle, ITestOutputHelper output) : IClassFixture<ScalarOracleFixture>
{
    [Fact]
    public void OracleOutputIsComplete()
    {
        Assert.True(oracle.Problems.Count == 0, string.Join('\n', oracle.Problems));
        Assert.Equal((long)ScalarOracleFixture.ChunkSize * (ScalarOracleFixture.ChunksNearestEven + 4 * ScalarOracleFixture.ChunksPerDirectedMode), oracle.RandomOperandSets);
        output.WriteLine($"edge results printed (RNE): {oracle.EdgeResultsPrinted}, hashed (RTZ/RDN/RUP/RMM): {oracle.EdgeResultsHashed}");
        output.WriteLine($"random operand sets: {oracle.RandomOperandSets} ({ScalarOracleFixture.ChunksNearestEven * ScalarOracleFixture.ChunkSize} RNE), results: {oracle.RandomResults}");
        output.WriteLine($"QEMU {oracle.QemuTime.TotalSeconds:F1} s, fixture {oracle.Total.TotalSeconds:F1} s");
    }

    [Fact]
    public void EdgeClassesAgreeBitForBit() =>
        Assert.True(oracle.EdgeMismatches.Count == 0, string.Join('\n', oracle.EdgeMismatches.Take(30)));

    [Fact]
    public void RandomOperandsAgreeBitForBit() =>
        Assert.True(oracle.RandomMismatches.Count == 0, string.Join('\n', oracle.RandomMismatches.Take(30)));
}
