using Btmc.Bench;

return await CaptureBenchmark.RunAsync(args);
