using Microsoft.ML;
using MlRounding.Samples;

// Usage: RoundingPipeline                 fit, print the first rows
//        RoundingPipeline save MODEL.zip  fit and save
//        RoundingPipeline load MODEL.zip  load in a fresh context (no MlRounding call first) and print the first rows
string mode = args.Length > 0 ? args[0] : "show";
var ml = new MLContext(seed: 1);
switch (mode)
{
    case "save" when args.Length == 2:
    {
        var data = RoundingPipelineSample.LoadData(ml);
        ml.Model.Save(RoundingPipelineSample.Fit(ml, data), data.Schema, args[1]);
        Console.WriteLine($"saved {args[1]}");
        return 0;
    }

    case "load" when args.Length == 2:
    {
        ITransformer model = new MLContext().Model.Load(args[1], out _);
        RoundingPipelineSample.Print(model.Transform(RoundingPipelineSample.LoadData(ml)), Console.Out);
        // Scoring is plain C#: LibTorch is never loaded into this process.
        bool libTorch = File.Exists("/proc/self/maps") && File.ReadAllText("/proc/self/maps").Contains("libtorch_cpu.so", StringComparison.Ordinal);
        Console.Error.WriteLine($"libtorch loaded: {libTorch.ToString().ToLowerInvariant()}");
        return 0;
    }

    case "show":
    {
        var data = RoundingPipelineSample.LoadData(ml);
        RoundingPipelineSample.Print(RoundingPipelineSample.Fit(ml, data).Transform(data), Console.Out);
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: RoundingPipeline [save MODEL.zip | load MODEL.zip]");
        return 2;
}
