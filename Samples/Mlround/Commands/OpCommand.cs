using System.CommandLine;

namespace MlRounding.Cli.Commands;

/// <summary><c>mlround op NAME</c>: prints an op's curve as CSV (x, y, dydx[, dyds]) and optionally draws it.</summary>
internal static class OpCommand
{
    public static Command Create(TextWriter stdout)
    {
        var name = new Argument<string>("name") { Description = "Op: " + string.Join(", ", OpSettings.Names) };
        var k = new Option<double>("--k") { Description = "Steepness of sigmoid", DefaultValueFactory = _ => 10 };
        var beta = new Option<double>("--beta") { Description = "Sharpness of softmax", DefaultValueFactory = _ => 10 };
        var h = new Option<double>("--h") { Description = "Half-width of finite-difference", DefaultValueFactory = _ => 0.25 };
        var alpha = new Option<double>("--alpha") { Description = "Hardness of soft-round", DefaultValueFactory = _ => 5 };
        var scale = new Option<double>("--scale") { Description = "Step of fake-quant and lsq", DefaultValueFactory = _ => 0.25 };
        var zeroPoint = new Option<long>("--zero-point") { Description = "Zero point of fake-quant and lsq" };
        var qmin = new Option<long>("--qmin") { Description = "Smallest code", DefaultValueFactory = _ => -8 };
        var qmax = new Option<long>("--qmax") { Description = "Largest code", DefaultValueFactory = _ => 7 };
        var min = new Option<double>("--min") { Description = "Lower bound of ste-clipped", DefaultValueFactory = _ => -2 };
        var max = new Option<double>("--max") { Description = "Upper bound of ste-clipped", DefaultValueFactory = _ => 2 };
        var decimals = new Option<int>("--decimals") { Description = "Decimal places of decimals (-8..8)", DefaultValueFactory = _ => 1 };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise" };
        var from = new Option<double>("--from") { Description = "First x", DefaultValueFactory = _ => -3 };
        var to = new Option<double>("--to") { Description = "Last x", DefaultValueFactory = _ => 3 };
        var points = new Option<int>("--points") { Description = "Number of points", DefaultValueFactory = _ => 601 };
        var float32 = new Option<bool>("--float32") { Description = "Compute in float32 instead of float64" };
        var hard = new Option<bool>("--hard") { Description = "Hard mode of sigmoid and softmax: round forward, smooth gradient" };
        var png = new Option<string?>("--png") { Description = "Also draw y and dydx against x into this PNG file" };

        var command = new Command("op", "Print what a rounding op does: CSV of x, y and dy/dx (and dy/ds for lsq).")
        {
            name, k, beta, h, alpha, scale, zeroPoint, qmin, qmax, min, max, decimals, seed, from, to, points, float32, hard, png,
        };
        command.SetAction(result =>
        {
            var settings = new OpSettings
            {
                Name = result.GetValue(name)!,
                K = result.GetValue(k),
                Beta = result.GetValue(beta),
                H = result.GetValue(h),
                Alpha = result.GetValue(alpha),
                Scale = result.GetValue(scale),
                ZeroPoint = result.GetValue(zeroPoint),
                Qmin = result.GetValue(qmin),
                Qmax = result.GetValue(qmax),
                Min = result.GetValue(min),
                Max = result.GetValue(max),
                Decimals = result.GetValue(decimals),
                Seed = result.GetValue(seed),
                From = result.GetValue(from),
                To = result.GetValue(to),
                Points = result.GetValue(points),
                Float32 = result.GetValue(float32),
                Hard = result.GetValue(hard),
            };
            var curve = OpCurve.Sample(settings);
            if (result.GetValue(png) is { } file)
            {
                CurveChart.Save(file, settings.Name + (settings.Hard ? " (hard)" : string.Empty), curve);
            }

            CsvFormat.WriteCurve(stdout, curve, settings.Float32);
            return 0;
        });
        return command;
    }
}
