namespace TinyOdl.Simulation.Timing;

/// <summary>Totals of one profiling region (one kernel call of the training step) over all its calls.</summary>
public sealed record RegionTotals(int Calls, long Instructions, long Cycles);

/// <summary>One call of tinyodl_train_step, from its call to its return, region markers included.</summary>
public sealed record StepTotals(long Instructions, long Cycles);

/// <summary>
/// Finds the profiling regions of a TinyOdl program built with region counters (firmware/profile.c) in the stream of
/// retired instructions, and times them with a cycle model. It reads the regions exactly where the firmware does:
/// at the <c>csrr minstret</c> inside <c>tinyodl_region_begin</c> and inside <c>tinyodl_region_end</c> (the last one
/// before each function returns, as the firmware's high/low/high retry loop keeps the last read). So a region's
/// instruction count here is, by construction, the minstret delta the firmware adds up, and the two can be compared
/// exactly. Its cycles are the model's cycles between the same two instructions.
/// </summary>
/// <remarks>
/// Region k is the k-th begin/end pair inside a call of <c>tinyodl_train_step</c> (the generated code brackets its
/// kernel calls in order, ids 0, 1, 2, ...). A pair outside the training step is the harness's empty pair
/// (<c>tinyodl_region_overhead</c>): its instructions and cycles are the fixed cost of the markers, which the
/// profiler subtracts per call like the host does with the firmware's figure.
/// </remarks>
public sealed class RegionProfiler : IRetireObserver
{
    public const string TrainStep = "tinyodl_train_step", Begin = "tinyodl_region_begin", End = "tinyodl_region_end";

    private readonly InOrderPipelineModel _model;
    private readonly uint _step;
    private readonly (uint Start, uint End) _begin, _end;
    private readonly List<(int Calls, long Instructions, long Cycles)> _regions = [];
    private readonly List<StepTotals> _steps = [];
    private readonly List<(long Instructions, long Cycles)> _overhead = [];
    private (long Index, long Cycle) _beginMark, _endMark;
    private bool _beginOpen;
    private uint _stepReturn = uint.MaxValue;
    private int _region;
    private long _stepInstructions, _stepCycle;

    /// <summary>Throws when the program has no region counters (not built with profiling).</summary>
    public RegionProfiler(ElfProgram program, InOrderPipelineModel model)
    {
        _model = model;
        _step = Function(program, TrainStep).Start;
        _begin = Function(program, Begin);
        _end = Function(program, End);
    }

    public InOrderPipelineModel Model => _model;

    /// <summary>
    /// Runs a profiling build (an ELF with region counters) on the simulator for <paramref name="board"/>, timed with
    /// the board's cycle model; returns the run, the program's stdout and the regions.
    /// </summary>
    public static (SimulationResult Result, string Stdout, RegionProfiler Profile) Run(string elfPath, Targets.Board board, CycleModelParameters parameters)
    {
        var program = ElfProgram.Load(elfPath);
        var profiler = new RegionProfiler(program, new InOrderPipelineModel(parameters, board.HasVector ? board.Vlen : 0));
        using var stdout = new MemoryStream();
        var result = Simulator.Run(program, MachineConfig.FromBoard(board), stdout, Stream.Null, new SimulationOptions { Observer = profiler });
        return (result, System.Text.Encoding.UTF8.GetString(stdout.ToArray()), profiler);
    }

    /// <summary>Per region id: calls, and instructions and cycles from the begin marker's counter read to the end marker's.</summary>
    public IReadOnlyList<RegionTotals> Regions => _regions.Select(r => new RegionTotals(r.Calls, r.Instructions, r.Cycles)).ToArray();

    /// <summary>Each call of the training step.</summary>
    public IReadOnlyList<StepTotals> Steps => _steps;

    /// <summary>The empty begin/end pairs outside the training step (the harness measures one).</summary>
    public IReadOnlyList<(long Instructions, long Cycles)> OverheadSamples => _overhead;

    private static (uint Start, uint End) Function(ElfProgram program, string name)
    {
        var s = program.Symbols.FirstOrDefault(x => x.Name == name)
            ?? throw TinyOdlException.At(program.Path, $"no function '{name}': the program was not built with profiling regions (tinyodl profile builds it so)");
        return (s.Address, s.Address + s.Size);
    }

    public void Retired(in RetiredInstruction r)
    {
        long index = _model.Instructions;                 // instructions retired before this one: what minstret reads
        _model.Retired(r);
        uint pc = r.Pc;
        var op = r.Instruction.Op;
        if (r.Class == InstructionClass.Jump)
        {
            if (r.NextPc == _step && _stepReturn == uint.MaxValue)
            {
                _stepReturn = pc + r.Instruction.Length;
                _region = 0;
                _stepInstructions = index;
                _stepCycle = _model.LastIssue;
            }
            else if (r.NextPc == _stepReturn && op == Op.Jalr)
            {
                _steps.Add(new StepTotals(index + 1 - _stepInstructions, _model.Cycles - _stepCycle));
                _stepReturn = uint.MaxValue;
            }
        }
        if (op == Op.Csrrs && (r.Instruction.Imm & 0xFFF) == Csr.Minstret)
        {
            if (pc - _begin.Start < _begin.End - _begin.Start)
            {
                _beginMark = (index, _model.LastIssue);
                _beginOpen = true;
            }
            else if (pc - _end.Start < _end.End - _end.Start)
            {
                _endMark = (index, _model.LastIssue);
            }
        }
        // The end marker returns: the pair is complete.
        if (op == Op.Jalr && pc - _end.Start < _end.End - _end.Start && _beginOpen)
        {
            _beginOpen = false;
            long instructions = _endMark.Index - _beginMark.Index, cycles = _endMark.Cycle - _beginMark.Cycle;
            if (_stepReturn == uint.MaxValue)
            {
                _overhead.Add((instructions, cycles));
                return;
            }
            while (_regions.Count <= _region) _regions.Add((0, 0, 0));
            var t = _regions[_region];
            _regions[_region] = (t.Calls + 1, t.Instructions + instructions, t.Cycles + cycles);
            _region++;
        }
    }
}
