using System.Globalization;
using MlRounding.Samples;

// Trains the same whole-number regressor with three rounding layers and prints one line each.
Console.WriteLine("rounding layer | train MSE before | train MSE after | test RMSE | all predictions whole");
foreach (var r in TorchSharpOpSample.Run())
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Name} | {r.InitialLoss:F1} | {r.FinalLoss:F1} | {r.TestRmse:F2} | {r.AllWhole}"));
}
