using TinyOdl.Data;
using TinyOdl.Graph;

namespace TinyOdl.Frontends;

/// <summary>What a model file holds: the model and, optionally, how to train it on a device.</summary>
public sealed record ModelDocument(Model Model, TrainingSettings Training, string SourcePath);
