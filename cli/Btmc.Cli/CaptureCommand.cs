using System.Net.Http.Headers;
using System.Text.Json;

namespace Btmc.Cli;

/// <summary><c>btmc capture</c>: sends documents to the capture endpoint with a progress bar on standard error.</summary>
public static class CaptureCommand
{
    public static async Task<int> RunAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var target = args.RequirePositional(0, "<file|folder>");
        var apiKey = ApiKeyOf(args);
        var files = Directory.Exists(target)
            ? Directory.EnumerateFiles(target, "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonld", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .ToList()
            : File.Exists(target) ? [target] : throw new CliUsageException($"{target} is neither a file nor a folder.");
        if (files.Count == 0)
        {
            throw new CliUsageException($"{target} holds no .json, .jsonld or .xml files.");
        }

        var parallel = int.TryParse(args.Option("parallel"), out var p) && p > 0 ? p : 4;
        using var http = BtmcCli.CreateClient(args.Require("url"));
        http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        var progress = new ProgressBar(error, files.Count);
        var results = new string[files.Count];
        var failures = 0;
        var events = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var bytes = await File.ReadAllBytesAsync(files[i], ct);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(Path.GetExtension(files[i]).ToLowerInvariant() switch
            {
                ".jsonld" => "application/ld+json",
                ".xml" => "application/xml",
                _ => "application/json",
            });
            using var response = await http.PostAsync("api/epcis/capture", content, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            using var json = JsonDocument.Parse(body.Length == 0 ? "{}" : body);
            if ((int)response.StatusCode == 202)
            {
                var count = json.RootElement.GetProperty("eventIds").GetArrayLength();
                Interlocked.Add(ref events, count);
                results[i] = $"202 {files[i]}: capture {json.RootElement.GetProperty("captureId").GetString()}, {count} events";
            }
            else
            {
                Interlocked.Increment(ref failures);
                var detail = json.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : body;
                results[i] = $"{(int)response.StatusCode} {files[i]}: {detail}";
            }

            progress.Advance();
        });
        progress.Finish();
        foreach (var line in results)
        {
            output.WriteLine(line);
        }

        output.WriteLine($"{files.Count - failures} of {files.Count} documents accepted, {events} events");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The partner API key: --api-key, --api-key-file, or the BTMC_API_KEY environment variable.</summary>
    internal static string ApiKeyOf(CliArguments args, string command = "capture")
    {
        if (args.Option("api-key") is { Length: > 0 } key)
        {
            return key;
        }

        if (args.Option("api-key-file") is { } file)
        {
            return File.Exists(file) ? File.ReadAllText(file).Trim() : throw new CliUsageException($"API key file {file} not found.");
        }

        return Environment.GetEnvironmentVariable("BTMC_API_KEY") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : throw new CliUsageException($"{command} needs a partner API key: --api-key-file <file> (the local backend writes .data/keys/partner-local.key), --api-key <key> or BTMC_API_KEY.");
    }
}
