using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace Btmc.Cli;

/// <summary>The registry commands an operator runs (<c>btmc partner …</c>, <c>btmc witness add|remove|list</c>): one request, its answer printed.</summary>
internal static class OperatorRequests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Adds --url and the API key options; the action sends the request and prints the answer (1 on a refusal).</summary>
    public static Command Send(Command command, string group, Func<ParseResult, string> path, HttpMethod method, Func<ParseResult, object>? body)
    {
        var url = CliOptions.Url();
        command.Add(url);
        var apiKey = new ApiKeyOptions(command, $"{group} {command.Name}");
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url));
            http.DefaultRequestHeaders.Add("X-API-Key", apiKey.Of(parseResult));
            using var request = new HttpRequestMessage(method, path(parseResult));
            if (body is not null)
            {
                request.Content = JsonContent.Create(body(parseResult));
            }

            using var response = await http.SendAsync(request, cancellationToken);
            return await ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    /// <summary>Prints a JSON answer indented (or the status of an empty one); a refusal's problem as one line on standard error, and 1.</summary>
    public static async Task<int> ReportAsync(HttpResponseMessage response, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            using var problem = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
            var root = problem.RootElement;
            var field = root.TryGetProperty("field", out var f) ? $" ({f.GetString()})" : string.Empty;
            error.WriteLine($"btmc: {(int)response.StatusCode} {(root.TryGetProperty("title", out var t) ? t.GetString() : response.ReasonPhrase)}{field}: {(root.TryGetProperty("detail", out var d) ? d.GetString() : text)}");
            return 1;
        }

        if (text.Length == 0)
        {
            output.WriteLine($"{(int)response.StatusCode} {response.ReasonPhrase}");
            return 0;
        }

        using var answer = JsonDocument.Parse(text);
        output.WriteLine(JsonSerializer.Serialize(answer.RootElement, Indented));
        return 0;
    }
}
