<?php
// As the official image's index.php: Adminer, its login form's server field filled from
// ADMINER_DEFAULT_SERVER (default "db"), which the operator sets to managed PostgreSQL's Service.
function adminer_object() {
    class DefaultServerAdminer extends Adminer {
        function loginForm() {
            ob_start();
            $return = parent::loginForm();
            $form = ob_get_clean();
            $server = getenv('ADMINER_DEFAULT_SERVER') ?: 'db';
            echo str_replace('name="auth[server]" value=""', 'name="auth[server]" value="' . htmlspecialchars($server) . '"', $form);
            return $return;
        }
    }
    return new DefaultServerAdminer();
}
require '/usr/share/adminer/adminer.php';
