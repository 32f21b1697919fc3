using Microsoft.ML;
using MlRounding.Samples;

// Usage: QatTraining                  train on digits (W4A8), evaluate on the held-out rows
//        QatTraining save MODEL.zip   train and save
//        QatTraining load MODEL.zip   load in a fresh context and print every test prediction (digit, scores)
var ml = new MLContext(seed: 1);
var (train, test) = QatTrainingSample.LoadData(ml);
switch (args)
{
    case []:
    {
        ITransformer model = QatTrainingSample.Fit(ml, train, log: Console.Out);
        var metrics = QatTrainingSample.Evaluate(ml, model, test);
        Console.WriteLine($"W4A8 test accuracy: {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log-loss {metrics.LogLoss:F4}");
        return 0;
    }

    case ["save", string path]:
    {
        ml.Model.Save(QatTrainingSample.Fit(ml, train), train.Schema, path);
        Console.WriteLine($"saved {path}");
        return 0;
    }

    case ["load", string path]:
    {
        ITransformer model = new MLContext().Model.Load(path, out _);
        QatTrainingSample.PrintPredictions(ml, model, test, Console.Out);
        // Scoring is plain C#: LibTorch is never loaded into this process.
        bool libTorch = File.ReadAllText("/proc/self/maps").Contains("libtorch_cpu.so", StringComparison.Ordinal);
        Console.Error.WriteLine($"libtorch loaded: {libTorch.ToString().ToLowerInvariant()}");
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: QatTraining [save MODEL.zip | load MODEL.zip]");
        return 2;
}
