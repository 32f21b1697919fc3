using System.Globalization;
using MlRounding.Samples;

// Prices on a grid: trained through an output rounding layer versus rounded after training, held-out RMSE in dollars.
Console.WriteLine("grid | approach | test RMSE ($) | every prediction on the grid");
foreach (var r in PricesToCentsSample.Run())
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Grid} | {r.Approach} | {r.Rmse:F3} | {r.OnGrid}"));
}
