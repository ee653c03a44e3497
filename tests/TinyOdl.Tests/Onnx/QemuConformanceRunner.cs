using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Targets;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// The device: writes the compiled model's output folder for <see cref="Conformance.Board"/> (C backend) with the
/// samples as test inputs of a predict-given-inputs plan (<see cref="RunPlan.Predict"/>: no training, no traced
/// steps, one `predict` line per sample), builds it with clang-19 -O2, runs it once under QEMU and parses the
/// predictions back from their printed bit patterns. One build and one run for all samples of a case.
/// </summary>
/// <param name="folder">The output folder to write (one per case: the runner replaces it on every call).</param>
internal sealed class QemuConformanceRunner(string folder) : IConformanceRunner
{
    public static BuildCombo Combo { get; } = BuildCombo.Default(Backend.C);

    public string Name => $"QEMU ({Conformance.Board.Name}, {Combo.Name})";

    public IReadOnlyList<float[]> Predict(CompiledModel compiled, IReadOnlyList<float[]> samples)
    {
        var program = compiled.Program;
        if (samples.FirstOrDefault(x => x.Length != program.InputSize) is { } bad)
            throw new TinyOdlException($"{Name}: a sample has {bad.Length} values, the model's input {program.InputSize}");
        var plan = RunPlan.Predict(samples);
        // expected.txt, as `tinyodl compile` writes it; the test compares the predictions with the evaluator itself.
        ProjectWriter.Write(folder, compiled, Conformance.Board, Backend.C, plan, HarnessSimulator.Run(program, plan));
        var run = QemuRunner.BuildAndRun(folder, Combo);
        if (!run.Succeeded)
            throw new TinyOdlException($"{Name}: the program exited with status {run.ExitCode} in {folder}\n{QemuRunner.Tail(run.Stdout, 20)}\n{QemuRunner.Tail(run.Stderr, 20)}");
        try
        {
            var predictions = Protocol.Predictions(run.Lines, program.OutputSize);
            if (predictions.Count != samples.Count)
                throw new FormatException($"{predictions.Count} predict lines for {samples.Count} samples");
            return predictions;
        }
        catch (FormatException e)
        {
            throw new TinyOdlException($"{Name}: unexpected output in {folder}: {e.Message}");
        }
    }
}
