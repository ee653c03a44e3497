using TinyOdl.Simulation;

namespace TinyOdl.Tests.Simulation;

/// <summary>The snippet for <see cref="RetireObserverTests"/>: a counted loop with a load, a multiply and an FP16 vector FMA.</summary>
public sealed class ObserverSnippets() : AsmSuite(
[
    ("mix", """
        la a0, scratch
        li t0, 4
        li a1, 5
        vsetvli zero, a1, e16, m2, ta, ma
        1:  lw t1, 0(a0)
        mul t2, t1, t0
        vfmacc.vv v8, v10, v12
        addi t0, t0, -1
        bnez t0, 1b
        """),
]);

/// <summary>
/// The hook a cycle model plugs into: every retired instruction arrives with its class, whether a branch was taken,
/// and the vector configuration it ran with.
/// </summary>
public sealed class RetireObserverTests(ObserverSnippets suite) : IClassFixture<ObserverSnippets>
{
    private sealed class Recorder : IRetireObserver
    {
        public readonly Dictionary<InstructionClass, int> Classes = new();
        public int Taken, NotTaken, VectorFma;
        public (int Sew, int Lmul, uint Vl) LastVector;

        public void Retired(in RetiredInstruction r)
        {
            Classes[r.Class] = Classes.GetValueOrDefault(r.Class) + 1;
            if (r.Class == InstructionClass.Branch)
            {
                if (r.Taken) Taken++;
                else NotTaken++;
            }
            if (r.Class == InstructionClass.VectorFpFusedMultiplyAdd)
            {
                VectorFma++;
                LastVector = (r.Sew, r.LmulEighths, r.Vl);
            }
        }
    }

    [Fact]
    public void Observer_sees_classes_branch_outcomes_and_vector_shape()
    {
        using var stdout = new MemoryStream();
        var machine = new Machine(AsmSuite.Config(), stdout, Stream.Null);
        machine.Load(suite.Program);
        machine.Hart.Pc = suite.Label("mix");
        machine.Hart.Csr.TryWrite(Csr.Mstatus, Csr.MstatusFs | Csr.MstatusVs);
        var recorder = new Recorder();
        var outcome = new Executor(machine).Run(10_000, recorder);
        Assert.Equal(StopKind.Halted, outcome.Kind);
        Assert.Equal(4, recorder.Classes[InstructionClass.Load]);
        Assert.Equal(4, recorder.Classes[InstructionClass.Multiply]);
        Assert.Equal(1, recorder.Classes[InstructionClass.VectorConfig]);
        Assert.Equal((3, 1), (recorder.Taken, recorder.NotTaken));
        Assert.Equal(4, recorder.VectorFma);
        Assert.Equal((16, 16, 5u), recorder.LastVector);                    // e16, LMUL 2 = 16 eighths, vl 5
        Assert.Equal((ulong)recorder.Classes.Values.Sum(), outcome.Instret);
    }
}
