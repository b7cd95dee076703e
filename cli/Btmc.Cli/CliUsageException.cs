namespace Btmc.Cli;

/// <summary>
/// A command line that parses but does not make sense once the command looks further (a key that is no committee
/// member's, a folder without documents): reported as <c>btmc: reason</c> with exit code 2, like a parse error.
/// </summary>
public sealed class CliUsageException(string message) : Exception(message);
