_sw_registry_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _SW_REGISTRY_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _sw_registry_completion sw-registry
