using System.Diagnostics;
using TinyOdl.Numerics;
using TinyOdl.Targets;
using Xunit.Abstractions;

namespace TinyOdl.Tests.Numerics;

/// <summary>
/// Builds oracle/vector.c for rv32imafcv_zvfh, runs it on QEMU (V, VLEN=128), and compares every lane and the
/// accrued flags of every instruction with the scalar C# library. Runs once per test class.
/// </summary>
public sealed class VectorOracleFixture : IDisposable
{
    public const string March = "rv32imafcv_zvfh";
    /// <summary>QEMU 7.2 refuses <c>v=true</c> with <c>d=false</c> ("V extension requires D extension"), so D stays on;
    /// the program is compiled for ilp32f and contains no D instruction.</summary>
    public const string Cpu = "rv32,Zfh=true,v=true,vlen=128,elen=64,vext_spec=v1.0";
    public const int ChunkSize = 65536;
    public const int ChunksNearestEven = 32;     // 2,097,152 lanes (operand sets)
    public const int ChunksPerDirectedMode = 4;
    private const int MaxDetailRuns = 3;
    private const int Lanes = VectorOracleModel.Lanes;

    private readonly OracleProgram _program;

    internal List<OracleMismatch> Mismatches { get; } = [];
    internal List<string> Problems { get; } = [];
    public long EdgeLanes { get; private set; }
    public long RandomLanes { get; private set; }
    public long Instructions { get; private set; }
    public TimeSpan QemuTime { get; private set; }
    public TimeSpan Total { get; private set; }

    public VectorOracleFixture()
    {
        var total = Stopwatch.StartNew();
        _program = new OracleProgram("vector.c", March, Cpu, "-fno-vectorize -fno-slp-vectorize", Board.Load("qemu-virt-rv32-zvfh").WithVlen(128));
        var defines = $"-DRANDOM_CHUNKS_RNE={ChunksNearestEven} -DRANDOM_CHUNKS_OTHER={ChunksPerDirectedMode}";
        var qemu = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            var o = _program.Run(defines);
            QemuTime = sw.Elapsed;
            return o;
        });

        var keys = Enumerable.Range(0, 5).Select(rm => (Kind: 1, Rm: rm, Chunk: 0))
            .Concat(Enumerable.Range(0, 5).SelectMany(rm => Enumerable.Range(0, rm == 0 ? ChunksNearestEven : ChunksPerDirectedMode).Select(c => (Kind: 2, Rm: rm, Chunk: c))))
            .ToArray();
        var hashes = new uint[keys.Length][];
        Parallel.For(0, keys.Length, k => hashes[k] = StreamHashes(keys[k].Kind, keys[k].Rm, keys[k].Chunk));
        var expected = new Dictionary<(int, int, int), uint[]>();
        for (int k = 0; k < keys.Length; k++) expected[keys[k]] = hashes[k];

        Compare(qemu.Result, expected);
        Total = total.Elapsed;
    }

    /// <summary>The operand sets of one stream: the edge triples (kind 1) or a random chunk (kind 2).</summary>
    private static OpSet[] StreamSets(int kind, int rm, int chunk)
    {
        if (kind == 1) return Enumerable.Range(0, OracleGenerator.EdgeTriples).Select(OracleGenerator.EdgeSet).ToArray();
        var sets = new OpSet[ChunkSize];
        ulong state = OracleGenerator.Seed(0x100u + (uint)rm, (uint)chunk);
        for (int i = 0; i < sets.Length; i++) sets[i] = OracleGenerator.GenSet(ref state);
        return sets;
    }

    private static uint[] StreamHashes(int kind, int rm, int chunk)
    {
        var sets = StreamSets(kind, rm, chunk);
        var h = new uint[VectorOracleModel.Count];
        Array.Fill(h, OracleGenerator.HashInit);
        for (int g = 0; g < sets.Length; g += Lanes)
            for (int op = 0; op < h.Length; op++)
            {
                var (r, _, f) = VectorOracleModel.Eval(op, sets.AsSpan(g, Lanes), (RoundingMode)rm);
                h[op] = VectorOracleModel.Hash(h[op], r, f);
            }
        return h;
    }

    private void Compare(string output, Dictionary<(int, int, int), uint[]> expected)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = $"oracle vector ops {VectorOracleModel.Count} lanes {Lanes} chunk {ChunkSize} chunks {ChunksNearestEven} {ChunksPerDirectedMode}";
        if (lines[0] != header) Problems.Add($"header '{lines[0]}', expected '{header}'");
        var seen = new HashSet<(int, int, int)>();
        var detail = new List<(int Kind, int Rm, int Chunk, int Op)>();
        foreach (var line in lines.Skip(1))
        {
            var t = line.Split(' ');
            if (t[0] is not ("ve" or "v"))
            {
                if (t[0] != "done") Problems.Add($"unexpected line '{line[..Math.Min(line.Length, 80)]}'");
                continue;
            }
            int kind = t[0] == "ve" ? 1 : 2, rm = int.Parse(t[1]), chunk = kind == 1 ? 0 : int.Parse(t[2]), first = kind == 1 ? 2 : 3;
            seen.Add((kind, rm, chunk));
            int sets = kind == 1 ? OracleGenerator.EdgeTriples : ChunkSize;
            if (kind == 1) EdgeLanes += sets; else RandomLanes += sets;
            Instructions += (long)sets / Lanes * VectorOracleModel.Count;
            var e = expected[(kind, rm, chunk)];
            for (int op = 0; op < VectorOracleModel.Count; op++)
                if (Convert.ToUInt32(t[first + op], 16) != e[op]) detail.Add((kind, rm, chunk, op));
        }
        if (seen.Count != expected.Count) Problems.Add($"{seen.Count} streams printed, expected {expected.Count}");

        foreach (var (kind, rm, chunk, op) in detail.Take(MaxDetailRuns))
        {
            var d = _program.Run($"-DDETAIL_KIND={kind} -DDETAIL_RM={rm} -DDETAIL_CHUNK={chunk} -DDETAIL_OP={op}");
            var items = d.Split('\n').Single(l => l.StartsWith("d ", StringComparison.Ordinal)).Split(' ').AsSpan(5);
            var sets = StreamSets(kind, rm, chunk);
            int found = 0;
            for (int g = 0; g < items.Length; g++)
            {
                var lanes = sets.AsSpan(g * Lanes, Lanes);
                var (r, digits, f) = VectorOracleModel.Eval(op, lanes, (RoundingMode)rm);
                var want = VectorOracleModel.Item(r, digits, f);
                if (items[g] == want) continue;
                if (found++ == 0 || Mismatches.Count < 50)
                    Mismatches.Add(new OracleMismatch(
                        $"{(kind == 1 ? "edge" : $"random chunk {chunk}")} rm={(RoundingMode)rm} group #{g}", VectorOracleModel.Names[op],
                        FirstDifferingLane(op, lanes, items[g], want), items[g], want));
            }
            if (found == 0) Problems.Add($"hash mismatch without a differing item: kind {kind} rm {rm} chunk {chunk} op {op}");
        }
        if (detail.Count > MaxDetailRuns) Problems.Add($"{detail.Count} mismatching streams, the first {MaxDetailRuns} examined");
    }

    /// <summary>Names the first lane whose printed result differs, or all lanes for a reduction or a flags-only difference.</summary>
    private static string FirstDifferingLane(int op, ReadOnlySpan<OpSet> lanes, string got, string want)
    {
        if (op is >= 4 and <= 7)
            return (op is 5 or 7 ? "(before taming) " : "") + "a lanes " + string.Join(",", lanes.ToArray().Select(s => s.A.ToString("x4"))) +
                   (op is 4 or 5 ? $" start c={lanes[0].C:x4}" : $" start x={lanes[0].X:x8}");
        int digits = op is 3 or 9 ? 8 : 4;
        if (got.Length == want.Length)
            for (int i = 0; i < Lanes; i++)
                if (!got.AsSpan(i * digits, digits).SequenceEqual(want.AsSpan(i * digits, digits)))
                    return $"lane {i}: {lanes[i]}";
        return "flags only: " + string.Join("; ", lanes.ToArray().Select(s => s.ToString()));
    }

    public void Dispose() => _program.Dispose();
}

/// <summary>The RVV FP16 instructions of the training kernels on QEMU, lane by lane against the scalar C# library.</summary>
public sealed class VectorOracleTests(VectorOracleFixture oracle, ITestOutputHelper output) : IClassFixture<VectorOracleFixture>
{
    [Fact]
    public void OracleOutputIsComplete()
    {
        Assert.True(oracle.Problems.Count == 0, string.Join('\n', oracle.Problems));
        Assert.Equal((long)VectorOracleFixture.ChunkSize * (VectorOracleFixture.ChunksNearestEven + 4 * VectorOracleFixture.ChunksPerDirectedMode), oracle.RandomLanes);
        output.WriteLine($"lanes: edge {oracle.EdgeLanes} (5 rounding modes), random {oracle.RandomLanes}; vector instructions checked: {oracle.Instructions}");
        output.WriteLine($"QEMU {oracle.QemuTime.TotalSeconds:F1} s, fixture {oracle.Total.TotalSeconds:F1} s");
    }

    [Fact]
    public void EveryLaneAndFlagMatchesTheScalarLibrary() =>
        Assert.True(oracle.Mismatches.Count == 0, string.Join('\n', oracle.Mismatches.Take(30)));
}
