using System.CommandLine;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Ledger;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc capture</c>: sends documents to the capture endpoint with a progress bar on standard error; with
/// <c>--signing-key</c>, each request carries the partner's detached ES256 JWS over the exact bytes sent in the
/// <c>Btmc-Signature</c> header (docs/partners.md, "Signed captures").
/// </summary>
internal static class CaptureCommand
{
    /// <summary>The request header of the partner's signature (the server's CaptureEndpoints.SignatureHeader).</summary>
    public const string SignatureHeader = "Btmc-Signature";

    public static Command Create()
    {
        var target = new Argument<FileSystemInfo>("file|folder")
        {
            Description = "An EPCIS document, or a folder whose *.json, *.jsonld and *.xml files (all levels) are sent.",
        }.AcceptExistingOnly();
        var url = CliOptions.Url();
        var parallel = new Option<int>("--parallel") { HelpName = "N", Description = "Requests at once.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var signingKey = new Option<FileInfo>("--signing-key")
        {
            HelpName = "pem",
            Description = "Sign each document: the partner's EC P-256 private key, PEM (PKCS#8 or SEC1), whose public key the partner registry holds.",
        }.AcceptExistingOnly();
        var command = new Command("capture", "Send EPCIS documents to POST /api/epcis/capture, with a progress bar on standard error.") { target, url, parallel, signingKey };
        var apiKey = new ApiKeyOptions(command, "capture");
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var key = parseResult.GetValue(signingKey) is { } pem ? OpenSigningKey(pem) : null;
            return await RunAsync(parseResult.GetRequiredValue(target), apiKey.Of(parseResult), parseResult.GetRequiredValue(url), parseResult.GetValue(parallel), key, output, error, cancellationToken);
        });
        return command;
    }

    /// <summary>An EC P-256 private key from a PEM file (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY").</summary>
    private static ECDsa OpenSigningKey(FileInfo pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(pem.FullName));

            // A public key imports too, and would only fail at the first signature: ask for the private part now.
            _ = key.ExportParameters(includePrivateParameters: true);
            if (EcPublicJwk.FromECDsa(key).Crv != EcPublicJwk.CurveP256)
            {
                throw new ArgumentException("the key is not on P-256");
            }

            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CliUsageException($"--signing-key {pem}: not an unencrypted EC P-256 private key in PEM (PKCS#8 or SEC1): {ex.Message}");
        }
    }

    private static async Task<int> RunAsync(FileSystemInfo target, string apiKey, Uri url, int parallel, ECDsa? signingKey, TextWriter output, TextWriter error, CancellationToken cancellationToken)
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
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture");
            using var content = new ByteArrayContent(bytes);
            request.Content = content;
            if (signingKey is not null)
            {
                // Over the exact bytes sent: the server verifies before it reads the body.
                request.Headers.Add(SignatureHeader, DetachedJws.Sign(signingKey, bytes));
            }

            content.Headers.ContentType = new MediaTypeHeaderValue(Path.GetExtension(files[i]).ToLowerInvariant() switch
            {
                ".jsonld" => "application/ld+json",
                ".xml" => "application/xml",
                _ => "application/json",
            });
            using var response = await http.SendAsync(request, ct);
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
