using System.Text.Json;
using System.Text.Json.Nodes;

namespace TinyOdl.Simulation.Timing;

/// <summary>
/// The parameters of <see cref="InOrderPipelineModel"/>: cycles and latencies per instruction kind, and the shape of
/// the vector unit. All are whole cycles (or counts). docs/CYCLE_MODEL.md says where each default comes from.
/// </summary>
/// <remarks>
/// Terms: an instruction <em>issues</em> (enters the execute stage) at some cycle t and holds the issue slot for its
/// <em>cycles</em>; its result is ready for a consumer at t + <em>latency</em>. A consumer that issues earlier stalls.
/// Scalar defaults (<see cref="Cv32e40p"/>) are the OpenHW CV32E40P user manual's: "Pipeline Details", table "Cycle
/// counts per instruction type", and its "Hazards" section, with the FPU instantiated as FPU_ADDMUL_LAT = 1 and
/// FPU_OTHERS_LAT = 1 ("Core Integration", "Parameters"). The vector parameters are an assumption (CV32E40P has no
/// V extension): a Spatz-like unit of lanes with 32-bit datapaths and one memory port per lane.
/// </remarks>
public sealed record CycleModelParameters
{
    /// <summary>Integer computational instructions (RV32I, Zbb), lui/auipc: "Integer Computational: 1".</summary>
    public int AluCycles { get; init; } = 1;

    /// <summary>Loads and stores: "Load/Store: 1" (aligned; misaligned accesses are not modeled).</summary>
    public int LoadStoreCycles { get; init; } = 1;

    /// <summary>"Load data hazard ... the instruction immediately following a load uses the result": 1 cycle.</summary>
    public int LoadUsePenalty { get; init; } = 1;

    /// <summary>mul: "CV32E40P uses a single-cycle 32-bit x 32-bit multiplier": 1.</summary>
    public int MulCycles { get; init; } = 1;

    /// <summary>mulh, mulhsu, mulhu: "The multiplications with upper-word result take 5 cycles".</summary>
    public int MulhCycles { get; init; } = 5;

    /// <summary>
    /// div, divu, rem, remu: the manual gives 3..35 (3 + the divisor's leading zero bits). The retire hook carries no
    /// operand values, so the model charges this fixed number; the default is the manual's maximum.
    /// </summary>
    public int DivCycles { get; init; } = 35;

    /// <summary>jal, jalr (and mret): "Jump: 2" (taken from ID, IF flushed).</summary>
    public int JumpCycles { get; init; } = 2;

    /// <summary>"Jump register (jalr) data hazard ... depends on the result of an immediately preceding instruction": 1.</summary>
    public int JalrDependencyPenalty { get; init; } = 1;

    /// <summary>"Branch (Not-Taken): 1".</summary>
    public int BranchNotTakenCycles { get; init; } = 1;

    /// <summary>"Branch (Taken): 3" (decided in EX, IF and ID flushed).</summary>
    public int BranchTakenCycles { get; init; } = 3;

    /// <summary>Jumps and taken branches to a non-word-aligned non-RVC instruction take one more cycle (3 and 4).</summary>
    public int UnalignedTargetPenalty { get; init; } = 1;

    /// <summary>"CSR Access: 1 (all the other CSRs)".</summary>
    public int CsrCycles { get; init; } = 1;

    /// <summary>"CSR Access: 4 (mstatus, mepc, mtvec, mcause, mcycle, minstret, mhpmcounter*, ... mcountinhibit, mhpmevent*, dcsr, dpc, dscratch*)".</summary>
    public int CsrSlowCycles { get; init; } = 4;

    /// <summary>"Instruction Fence: 2" (fence.i is a jump to the next instruction).</summary>
    public int FenceICycles { get; init; } = 2;

    /// <summary>lr.w, sc.w and AMOs: not in CV32E40P; assumed a load followed by a store.</summary>
    public int AtomicCycles { get; init; } = 2;

    /// <summary>
    /// FPU_ADDMUL_LAT: pipeline registers of the FP32 add/multiply/FMA unit. "Floating-Point Addition or Multiplication:
    /// 1..FPU_ADDMUL_LAT + 1": a dependent instruction right after stalls FPU_ADDMUL_LAT cycles. Above 1, the core does
    /// not overlap FPU instructions (openhwgroup/cv32e40p issue 1033); the model follows that.
    /// </summary>
    public int FpuAddmulLat { get; init; } = 1;

    /// <summary>FPU_OTHERS_LAT: FP32 comparison, conversion, classify, sign injection, min/max and moves: "1..FPU_OTHERS_LAT + 1".</summary>
    public int FpuOthersLat { get; init; } = 1;

    /// <summary>FP32 fdiv/fsqrt: "Single Precision Floating-Point Division and Square-Root: 1..19"; iterative, blocks further FPU instructions.</summary>
    public int FpDivSqrtCycles { get; init; } = 19;

    /// <summary>Zfh (not in CV32E40P, whose CVFPU enables FP32 only): assumed the same merged add/multiply unit as FP32.</summary>
    public int Fp16AddmulLat { get; init; } = 1;

    /// <summary>Zfh comparison, conversion (fcvt.s.h, fcvt.h.s included), classify, moves: assumed as FP32.</summary>
    public int Fp16OthersLat { get; init; } = 1;

    /// <summary>Zfh fdiv/fsqrt: assumed as FP32.</summary>
    public int Fp16DivSqrtCycles { get; init; } = 19;

    /// <summary>Vector lanes (assumption, Spatz-like). Elements per cycle = lanes x lane bits / element width.</summary>
    public int VectorLanes { get; init; } = 4;

    /// <summary>Datapath width of one lane in bits (an FP32 FMA, or two FP16 FMAs, per lane and cycle).</summary>
    public int VectorLaneBits { get; init; } = 32;

    /// <summary>Memory ports of the vector load/store unit (one per lane); strided and indexed accesses move one element per port and cycle.</summary>
    public int VectorMemoryPorts { get; init; } = 4;

    /// <summary>Bytes per port and cycle; unit-stride accesses move ports x this many bytes per cycle.</summary>
    public int VectorPortBytes { get; init; } = 4;

    /// <summary>Vector instructions the scalar core may dispatch ahead of the vector unit before it stalls.</summary>
    public int VectorQueueDepth { get; init; } = 4;

    /// <summary>Cycles from dispatch by the scalar core to the first cycle the vector unit works on the instruction.</summary>
    public int VectorDispatchCycles { get; init; } = 1;

    /// <summary>Result latency of vector integer, mask and permutation operations after their last element group.</summary>
    public int VectorIntLat { get; init; } = 1;

    /// <summary>Result latency of vector integer multiplies after their last element group.</summary>
    public int VectorIntMulLat { get; init; } = 2;

    /// <summary>Vector loads: cycles from the last beat on the memory port to the data being usable (as the scalar load-use).</summary>
    public int VectorMemoryLat { get; init; } = 2;

    /// <summary>The preset calibrated to the CV32E40P manual (scalar) with the assumed Spatz-like vector unit.</summary>
    public static CycleModelParameters Cv32e40p { get; } = new();

    /// <summary>Presets by the name a board's <c>cycle_model.preset</c> uses.</summary>
    public static IReadOnlyDictionary<string, CycleModelParameters> Presets { get; } =
        new Dictionary<string, CycleModelParameters>(StringComparer.Ordinal) { ["cv32e40p"] = Cv32e40p };

    /// <summary>Result latency of the scalar FPU's add/multiply/FMA group for a format.</summary>
    public int FpAddMulLatency(bool half) => 1 + (half ? Fp16AddmulLat : FpuAddmulLat);

    /// <summary>Result latency of the scalar FPU's other (non-computing, conversion) group for a format.</summary>
    public int FpOtherLatency(bool half) => 1 + (half ? Fp16OthersLat : FpuOthersLat);

    public int FpDivSqrt(bool half) => half ? Fp16DivSqrtCycles : FpDivSqrtCycles;

    /// <summary>Vector elements of <paramref name="widthBits"/> the lanes process per cycle (at least 1).</summary>
    public int VectorElementsPerCycle(int widthBits) => Math.Max(1, VectorLanes * VectorLaneBits / widthBits);

    /// <summary>
    /// The most multiply-accumulates per cycle this model can sustain for an element width: the vector lanes' FMAs
    /// when <paramref name="vector"/>, else the scalar FPU's one FMA per cycle (less when its FPU does not overlap
    /// instructions, FPU_ADDMUL_LAT &gt; 1). The board's <c>peak_macs_per_cycle</c> states the same figure.
    /// </summary>
    public double PeakMacsPerCycle(int elementBits, bool vector)
    {
        if (vector) return VectorElementsPerCycle(elementBits);
        int lat = elementBits == 16 ? Fp16AddmulLat : FpuAddmulLat;
        return lat > 1 ? 1.0 / (1 + lat) : 1.0;
    }

    // ------------------------------------------------------------------ board.json

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Every parameter's JSON name ("fpu_addmul_lat", ...) and value.</summary>
    public IReadOnlyDictionary<string, int> ToDictionary()
    {
        var o = JsonSerializer.SerializeToNode(this, Json)!.AsObject();
        return o.ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads a board's <c>cycle_model</c> object: <c>{"preset": "cv32e40p", "parameters": {...}}</c> (the parameters
    /// override the preset's) or, without a preset, <c>{"parameters": {...}}</c> naming every parameter. Errors name
    /// <paramref name="where"/> and the field.
    /// </summary>
    public static CycleModelParameters Parse(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw TinyOdlException.At(where, "must be an object with \"preset\" and/or \"parameters\"");
        foreach (var p in e.EnumerateObject())
            if (p.Name is not ("preset" or "parameters" or "description"))
                throw TinyOdlException.At($"{where}.{p.Name}", "unknown field; expected \"preset\", \"parameters\" or \"description\"");
        Dictionary<string, int>? values = null;
        if (e.TryGetProperty("preset", out var preset))
        {
            var name = preset.ValueKind == JsonValueKind.String ? preset.GetString()! : "";
            if (!Presets.TryGetValue(name, out var baseline))
                throw TinyOdlException.At($"{where}.preset", $"unknown preset '{preset}'; available: {string.Join(", ", Presets.Keys)}");
            values = new Dictionary<string, int>(baseline.ToDictionary(), StringComparer.Ordinal);
        }
        var known = Cv32e40p.ToDictionary().Keys.ToHashSet(StringComparer.Ordinal);
        var given = new Dictionary<string, int>(StringComparer.Ordinal);
        if (e.TryGetProperty("parameters", out var parameters))
        {
            if (parameters.ValueKind != JsonValueKind.Object) throw TinyOdlException.At($"{where}.parameters", "must be an object of parameter names to whole numbers");
            foreach (var p in parameters.EnumerateObject())
            {
                if (!known.Contains(p.Name))
                    throw TinyOdlException.At($"{where}.parameters.{p.Name}", $"unknown cycle-model parameter; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int v))
                    throw TinyOdlException.At($"{where}.parameters.{p.Name}", $"must be a whole number, not {p.Value.GetRawText()}");
                given[p.Name] = v;
            }
        }
        if (values is null)
        {
            var missing = known.Where(k => !given.ContainsKey(k)).Order(StringComparer.Ordinal).ToArray();
            if (missing.Length > 0)
                throw TinyOdlException.At($"{where}.parameters", $"without a \"preset\" every parameter is needed; missing: {string.Join(", ", missing)}");
            values = new Dictionary<string, int>(StringComparer.Ordinal);
        }
        foreach (var (k, v) in given) values[k] = v;
        var node = new JsonObject(values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var result = node.Deserialize<CycleModelParameters>(Json)!;
        result.Validate(where);
        return result;
    }

    /// <summary>Throws naming the first parameter out of range: latencies and penalties may be 0, everything else at least 1.</summary>
    public void Validate(string where)
    {
        foreach (var (name, value) in ToDictionary())
        {
            int min = name.EndsWith("_penalty", StringComparison.Ordinal) || name.EndsWith("_lat", StringComparison.Ordinal) ? 0 : 1;
            if (value < min || value > 1_000_000)
                throw TinyOdlException.At($"{where}.parameters.{name}", $"is {value}; must be between {min} and 1000000");
        }
        if ((VectorLaneBits & (VectorLaneBits - 1)) != 0 || VectorLaneBits < 8)
            throw TinyOdlException.At($"{where}.parameters.vector_lane_bits", $"is {VectorLaneBits}; must be a power of two, at least 8");
    }
}

/// <summary>
/// The board's peak multiply-accumulates per cycle (board.json <c>peak_macs_per_cycle</c>): FMA units x lanes that
/// can complete per cycle, for binary32 and binary16 operands. The profiler reports each layer's share of it.
/// <see cref="Binary"/>, optional, is the peak of 1-bit MACs (binary layers' XNOR-popcount) per cycle.
/// </summary>
public sealed record PeakMacs(double Fp32, double Fp16, double? Binary = null)
{
    public static PeakMacs Parse(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw TinyOdlException.At(where, "must be an object {\"fp32\": n, \"fp16\": n}");
        foreach (var p in e.EnumerateObject())
            if (p.Name is not ("fp32" or "fp16" or "binary" or "description"))
                throw TinyOdlException.At($"{where}.{p.Name}", "unknown field; expected \"fp32\", \"fp16\" and optionally \"binary\"");
        return new PeakMacs(Positive(e, "fp32", where), Positive(e, "fp16", where), e.TryGetProperty("binary", out _) ? Positive(e, "binary", where) : null);
    }

    private static double Positive(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var v)) throw TinyOdlException.At($"{where}.{name}", "missing");
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !(d > 0) || double.IsInfinity(d))
            throw TinyOdlException.At($"{where}.{name}", $"must be a positive number, not {v.GetRawText()}");
        return d;
    }
}
