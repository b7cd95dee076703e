using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Btmc.Cli;

/// <summary><c>btmc capture</c>: sends documents to the capture endpoint with a progress bar on standard error.</summary>
internal static class CaptureCommand
{
    public static Command Create()
    {
        var target = new Argument<FileSystemInfo>("file|folder")
        {
            Description = "An EPCIS document, or a folder whose *.json, *.jsonld and *.xml files (all levels) are sent.",
        }.AcceptExistingOnly();
        var url = CliOptions.Url();
        var parallel = new Option<int>("--parallel") { HelpName = "N", Description = "Requests at once.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var command = new Command("capture", "Send EPCIS documents to POST /api/epcis/capture, with a progress bar on standard error.") { target, url, parallel };
        var apiKey = new ApiKeyOptions(command, "capture");
        command.SetAction((parseResult, output, error, cancellationToken) =>
            RunAsync(parseResult.GetRequiredValue(target), apiKey.Of(parseResult), parseResult.GetRequiredValue(url), parseResult.GetValue(parallel), output, error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileSystemInfo target, string apiKey, Uri url, int parallel, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // Paths as the user wrote them (ToString, not FullName), in the lines printed for each document.
        List<string> files = target is DirectoryInfo folder
            ? [.. Directory.EnumerateFiles(folder.ToString(), "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonld", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)]
            : [target.ToString()];
        if (files.Count == 0)
        {
            throw new CliUsageException($"{target} holds no .json, .jsonld or .xml files.");
        }

        using var http = BtmcCli.CreateClient(url);
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
}
