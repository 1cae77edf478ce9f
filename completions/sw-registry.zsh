#compdef sw-registry

_sw_registry_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _SW_REGISTRY_COMPLETE=complete_zsh sw-registry)
}

compdef _sw_registry_completion sw-registry
